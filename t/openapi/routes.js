// Checks that docs/openapi.yaml and the module's route table describe the
// same API:
//
//     node t/openapi/routes.js docs/openapi.yaml ngx_collab_module
//
// The routes are read from the C sources under the folder given, wherever
// the table is: each entry starts with a line such as
//
//     { "accounts/:/rooms", COLLAB_ROUTE_ACCOUNT,
//
// and holds its methods (NGX_HTTP_GET ...) up to the brace that closes
// it.  A pattern matches a path of the description with the same
// segments, where ":" (one segment) and "*" (the rest of the path) stand
// for a {parameter}.  Every route needs its path and an operation for each
// of its methods; every path and operation of the description needs its
// route and method (HEAD is answered wherever GET is).
//
// Prints one line per route, "ok" or "not ok" with what is missing, then
// one "not ok" line per path or operation that no route has; exits 1 when
// something did not match.

'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch',
                 'trace'];
const ENTRY = /^[ \t]*\{[ \t]*"([^"]*)",[ \t]*COLLAB_ROUTE_[A-Z]+,/gm;

function sources(dir) {
    let all = [];

    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);

        if (e.isDirectory()) {
            all = all.concat(sources(p));

        } else if (e.name.endsWith('.c')) {
            all.push(p);
        }
    }

    return all.sort();
}

// the text of the entry that opens at "at", up to its closing brace
function entry(text, at) {
    let depth = 0;

    for (let i = text.indexOf('{', at); i < text.length; i++) {
        if (text[i] === '{') {
            depth++;

        } else if (text[i] === '}' && --depth === 0) {
            return text.substring(at, i + 1);
        }
    }

    return text.substring(at);
}

function routes(dir) {
    const all = [];

    for (const file of sources(dir)) {
        const text = fs.readFileSync(file, 'utf8');
        let m;

        ENTRY.lastIndex = 0;

        while ((m = ENTRY.exec(text)) !== null) {
            const body = entry(text, m.index);
            const methods = {};
            const re = /NGX_HTTP_(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\b/g;
            let n;

            while ((n = re.exec(body)) !== null) {
                methods[n[1].toLowerCase()] = 1;
            }

            all.push({ pattern: m[1], file: file,
                       methods: Object.keys(methods) });
        }
    }

    return all;
}

function same(pattern, p) {
    const a = pattern.split('/');
    const b = p.split('/').slice(1);

    if (a.length !== b.length) {
        return false;
    }

    for (let i = 0; i < a.length; i++) {
        const param = /^\{[^}]+\}$/.test(b[i]);

        if (a[i] === ':' || (a[i] === '*' && i === a.length - 1)) {
            if (!param) {
                return false;
            }

        } else if (param || a[i] !== b[i]) {
            return false;
        }
    }

    return true;
}

function main() {
    const doc = YAML.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const table = routes(process.argv[3]);
    const paths = Object.keys(doc.paths);
    const described = {};
    let failed = 0;

    if (!table.length) {
        console.log('not ok the route table (no route found under '
                    + process.argv[3] + ')');
        process.exit(1);
    }

    for (const r of table) {
        const p = paths.find(function (x) { return same(r.pattern, x); });
        const problems = [];

        if (!p) {
            problems.push('no path in the description');

        } else {
            described[p] = r;

            for (const m of r.methods) {
                if (!doc.paths[p][m]) {
                    problems.push(m.toUpperCase() + ' has no operation');
                }
            }
        }

        if (!r.methods.length) {
            problems.push('no method found in ' + r.file);
        }

        const name = 'route ' + r.pattern + ' ('
                     + r.methods.map(function (m) {
                           return m.toUpperCase();
                       }).join(' ') + ')';

        if (problems.length) {
            failed++;
            console.log('not ok ' + name);
            for (const why of problems) {
                console.log('#   ' + why);
            }

        } else {
            console.log('ok ' + name);
        }
    }

    for (const p of paths) {
        const r = described[p];

        if (!r) {
            failed++;
            console.log('not ok path ' + p + ' (no route of the module)');
            continue;
        }

        for (const m of METHODS) {
            if (doc.paths[p][m] && r.methods.indexOf(m) < 0
                && !(m === 'head' && r.methods.indexOf('get') >= 0))
            {
                failed++;
                console.log('not ok operation ' + m.toUpperCase() + ' ' + p
                            + ' (the route ' + r.pattern
                            + ' has no such method)');
            }
        }
    }

    console.log('# ' + table.length + ' routes, ' + paths.length
                + ' paths');

    process.exit(failed ? 1 : 0);
}

main();
