// Writes what Node's console.log prints for each line of inspect-cases.txt
// (the arguments of one call), as JSON pairs [arguments, output]: the
// expectations of test_runner_inspect.c.
//
//     node t/unit/inspect-node.js > t/unit/inspect-node.json

const fs = require('fs');
const path = require('path');
const util = require('util');

const lines = fs.readFileSync(path.join(__dirname, 'inspect-cases.txt'),
                              'utf8').split('\n').filter(Boolean);
const out = lines.map((line) => [line, util.format(...eval('[' + line + ']'))]);

process.stdout.write(JSON.stringify(out, null, 1) + '\n');
