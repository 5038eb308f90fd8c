// Checks real answers of the API against docs/openapi.yaml:
//
//     node t/openapi/contract.js docs/openapi.yaml answers.jsonl
//
// answers.jsonl is what t/lib/collab.js logs with $collab_contract_log
// set: one {method, url, status, type, headers, body} per request.  Each
// /v1 request is matched to a path of the description (the {name} of a
// file takes the rest of the path, as the router's "*" does) and its
// method; the answer's status must be one the operation lists, its body
// must validate against that response's schema (JSON Schema 2020-12, with
// formats), a response without content must have no body, and the headers
// the response lists (of those logged) must be there.  An event stream
// (text/event-stream) is read message by message: each message with an
// "event:" field must have that name in the x-sse-messages of its media
// type, and its "data:" must validate against the schema found there (a
// last message cut off when the client stopped reading is passed over).
// Every status and every message that an operation answered must have a
// schema to validate against.  A path that
// matches nothing must be answered 404, a method the path does not have
// 405 with Allow, both with the Error schema.  HEAD is answered as GET
// without a body where the path has no head operation.
//
// Prints one line per operation and status seen, "ok" or "not ok" with
// the first mismatches, then a "not ok" line for each operation that no
// answer exercised; exits 1 when something did not match or was not
// exercised.

'use strict';

const fs = require('fs');
const YAML = require('yaml');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];
const SPEC = 'openapi';

// the response headers that t/lib/collab.js logs
const LOGGED = ['Allow', 'WWW-Authenticate', 'ETag', 'Content-Range',
                'Retry-After'];

function pointer(parts) {
    return SPEC + '#/' + parts.map(function (p) {
        return String(p).replace(/~/g, '~0').replace(/\//g, '~1');
    }).join('/');
}

// follows a "#/components/..." $ref of a non-schema object
function deref(doc, obj, where) {
    while (obj && obj.$ref) {
        where = obj.$ref.substring(2).split('/');
        obj = where.reduce(function (o, k) { return o[k]; }, doc);
    }
    return { obj: obj, where: where };
}

function templates(doc) {
    return Object.keys(doc.paths).map(function (path) {
        return { path: path, segs: path.split('/').slice(1) };
    });
}

function match(tpls, path) {
    const segs = path.split('/').slice(1);

    for (let greedy = 0; greedy < 2; greedy++) {
        for (const t of tpls) {
            const n = t.segs.length;
            const last = t.segs[n - 1];

            if (greedy ? !(last === '{name}' && segs.length >= n)
                       : segs.length !== n)
            {
                continue;
            }

            let ok = true;
            for (let i = 0; i < n - greedy; i++) {
                if (t.segs[i][0] !== '{' && t.segs[i] !== segs[i]) {
                    ok = false;
                    break;
                }
                if (t.segs[i][0] === '{' && segs[i] === '') {
                    ok = false;
                    break;
                }
            }
            if (ok) {
                return t.path;
            }
        }
    }

    return null;
}

function main() {
    const doc = YAML.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const lines = fs.readFileSync(process.argv[3], 'utf8').split('\n')
                  .filter(function (l) { return l.length; });

    const ajv = new Ajv2020({ strict: false, allErrors: false });
    addFormats(ajv);
    ajv.addSchema(doc, SPEC);

    const tpls = templates(doc);
    const seen = {};
    const errorSchema = ajv.getSchema(pointer(['components', 'schemas',
                                               'Error']));
    let failed = 0;
    let checked = 0;

    function note(key, problem) {
        if (!seen[key]) {
            seen[key] = { count: 0, problems: [] };
        }
        seen[key].count++;
        if (problem) {
            seen[key].problems.push(problem);
        }
    }

    for (const line of lines) {
        const rec = JSON.parse(line);

        if (!rec.url.startsWith('/v1/')) {
            continue;
        }

        checked++;

        const url = rec.url.substring(3).split('?')[0];
        const what = rec.method + ' ' + rec.url + ' ' + rec.status;
        const type = (rec.type || '').split(';')[0].trim();
        const path = match(tpls, url);
        const method = rec.method.toLowerCase();
        const item = path && doc.paths[path];
        let opMethod = method;

        if (item && !item[method] && method === 'head' && item.get) {
            opMethod = 'get';
        }

        if (!path || !item[opMethod]) {
            const key = path ? '(405) ' + rec.method + ' ' + path
                             : '(404) unknown route';
            const want = path ? 405 : 404;
            let problem = null;

            if (rec.status !== want) {
                problem = what + ': expected ' + want;

            } else if (!errorSchema(parseJson(rec.body))) {
                problem = what + ': ' + ajv.errorsText(errorSchema.errors);

            } else if (want === 405 && !rec.headers.Allow) {
                problem = what + ': no Allow header';
            }

            note(key, problem);
            continue;
        }

        const op = item[opMethod];
        const key = (opMethod !== method ? 'HEAD as ' : '') + op.operationId
                    + ' ' + rec.status;
        const listed = op.responses[String(rec.status)]
                       || op.responses[String(rec.status)[0] + 'XX']
                       || op.responses['default'];

        if (!listed) {
            note(key, what + ': status not listed for ' + op.operationId);
            continue;
        }

        const resp = deref(doc, listed,
                           ['paths', path, opMethod, 'responses',
                            String(rec.status)]);
        const content = resp.obj.content;
        let problem = null;

        for (const h of Object.keys(resp.obj.headers || {})) {
            if (LOGGED.indexOf(h) >= 0 && rec.headers[h] === undefined) {
                problem = what + ': no ' + h + ' header';
            }
        }

        if (method === 'head') {
            if (rec.body.length) {
                problem = what + ': HEAD with a body';
            }

        } else if (!content) {
            if (rec.body.length) {
                problem = what + ': a body where none is described';
            }

        } else if (content[type] && content[type].schema
                   && type === 'application/json')
        {
            const validate = ajv.getSchema(
                pointer(resp.where.concat(['content', type, 'schema'])));
            const value = parseJson(rec.body);

            if (value === undefined) {
                problem = what + ': not JSON: ' + rec.body.substring(0, 80);

            } else if (!validate(value)) {
                problem = what + ': ' + ajv.errorsText(validate.errors)
                          + ' in ' + rec.body.trim().substring(0, 200);
            }

        } else if (content[type] && type === 'application/json') {
            problem = what + ': no schema for ' + type;

        } else if (content[type] && type === 'text/event-stream') {
            problem = sse(ajv, resp.where.concat(['content', type]),
                          content[type], rec.body, what);

        } else if (!content[type] && !content['*/*']) {
            problem = what + ': Content-Type ' + type + ' is not described';
        }

        note(key, problem);
    }

    for (const key of Object.keys(seen).sort()) {
        const s = seen[key];

        if (s.problems.length) {
            failed++;
            console.log('not ok ' + key + ' (' + s.problems.length + ' of '
                        + s.count + ' answers)');
            for (const p of s.problems.slice(0, 3)) {
                console.log('#   ' + p);
            }

        } else {
            console.log('ok ' + key + ' (' + s.count + ' answers)');
        }
    }

    const used = {};
    for (const key of Object.keys(seen)) {
        used[key.replace(/^HEAD as /, '').split(' ')[0]] = 1;
    }

    const unused = [];
    for (const path of Object.keys(doc.paths)) {
        for (const m of METHODS) {
            const op = doc.paths[path][m];
            if (op && !used[op.operationId]) {
                unused.push(op.operationId);
            }
        }
    }

    for (const op of unused) {
        failed++;
        console.log('not ok ' + op + ' (no answer exercised it)');
    }

    console.log('# ' + checked + ' answers checked, '
                + Object.keys(seen).length + ' operations and statuses');

    process.exit(failed || !checked ? 1 : 0);
}

// the messages of an event stream against the x-sse-messages of its media
// type; null, or the first problem
function sse(ajv, where, media, body, what) {
    const messages = media['x-sse-messages'];
    const blocks = body.split('\n\n');

    if (!messages) {
        return what + ': no x-sse-messages for its event stream';
    }

    /* the last one, complete or not, follows the last blank line */
    blocks.pop();

    for (const block of blocks) {
        const f = {};

        for (const line of block.split('\n')) {
            const c = line.indexOf(':');
            if (c > 0) {
                const name = line.substring(0, c);
                const value = line.substring(c + 1).replace(/^ /, '');
                f[name] = f[name] === undefined ? value
                                                : f[name] + '\n' + value;
            }
        }

        if (f.event === undefined) {
            if (f.data !== undefined) {
                return what + ': a message with data and no event: '
                       + block.substring(0, 120);
            }
            continue;
        }

        if (!messages[f.event]) {
            return what + ': event "' + f.event + '" is not in x-sse-messages';
        }

        const validate = ajv.getSchema(
            pointer(where.concat(['x-sse-messages', f.event])));
        const value = parseJson(f.data || '');

        if (value === undefined) {
            return what + ': event "' + f.event + '" has no JSON data: '
                   + block.substring(0, 120);
        }

        if (!validate(value)) {
            return what + ': event "' + f.event + '": '
                   + ajv.errorsText(validate.errors) + ' in '
                   + f.data.substring(0, 200);
        }
    }

    return null;
}

function parseJson(text) {
    try {
        return JSON.parse(text);
    } catch (e) {
        return undefined;
    }
}

main();
