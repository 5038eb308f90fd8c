// Scenario runner for the Test::Nginx suite, loaded into the test nginx
// with njs.  `POST /t` carries one step per line; each request step is sent
// to the API of the same server and answered by one transcript line:
//
//     METHOD PATH STATUS BODY
//
// Identifiers in answers are replaced by stable names ({acc1}, {key1},
// {tok1}, {room1}, {evt1}, {cursor1} ...) so that a transcript is the same
// on every run, and a later step may use those names in its path or body.
// Timestamps read <ts>.  Steps:
//
//     as admin | as none | as {tok1} | as <literal token>
//     header Name: value        (for the next request only)
//     port second               (send the following requests to the port in
//                               $collab_port2; "port first" goes back)
//     METHOD PATH [BODY]        (BODY is sent as application/json)
//     raw METHOD PATH [BODY]    (no Content-Type unless a header step set it)
//     repeat N METHOD PATH [BODY]
//                               (N requests at once; one line with the count
//                               of each status and of the distinct workers
//                               that answered, from an X-Worker header; {i}
//                               in the body is the request's number, 0..N-1)
//     sleep MS                  (wait that many milliseconds)
//     count METHOD PATH         (a list: prints only how many items it has
//                               and whether a next page exists)
//     disk                      (the files folder, $collab_files: one line
//                               per room folder with the names in it)
//     # comment

import fs from 'fs';

const ID = /\b(acc|key|evt|wh|wf|dlv|exe|user|blob)_[0-9A-Za-z]{22}\b/g;
const TOKEN = /\bck_[0-9A-Za-z]{43}\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b/g;
const CURSOR = /"nextCursor":"([^"]+)"/g;
const TS = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;

function Names() {
    this.byValue = {};
    this.byName = {};
    this.count = {};
}

Names.prototype.name = function (kind, value) {
    if (this.byValue[value] === undefined) {
        this.count[kind] = (this.count[kind] || 0) + 1;
        const n = '{' + kind + this.count[kind] + '}';
        this.byValue[value] = n;
        this.byName[n] = value;
    }
    return this.byValue[value];
};

Names.prototype.hide = function (text) {
    const self = this;
    text = text.replace(CURSOR, function (m, c) {
        return '"nextCursor":"' + self.name('cursor', c) + '"';
    });
    text = text.replace(TOKEN, function (m) { return self.name('tok', m); });
    text = text.replace(ID, function (m, kind) { return self.name(kind, m); });
    text = text.replace(UUID, function (m) { return self.name('room', m); });
    return text.replace(TS, '<ts>');
};

Names.prototype.show = function (text) {
    const self = this;
    return text.replace(/\{[a-z]+[0-9]+\}/g, function (m) {
        if (self.byName[m] === undefined) {
            throw new Error('unknown name ' + m);
        }
        return self.byName[m];
    });
};

// the room folders under $collab_files and what each holds, names hidden
function disk(r, names) {
    const top = r.variables.collab_files;
    const lines = [];

    fs.readdirSync(top).forEach(function (room) {
        const held = fs.readdirSync(top + '/' + room).map(function (f) {
            return names.hide(f);
        }).sort();
        lines.push('disk ' + names.hide(room) + ': '
                   + (held.length ? held.join(' ') : '(empty)'));
    });

    lines.sort();

    return lines.length ? lines.join('\n') + '\n' : 'disk: no room folder\n';
}

function adminToken(r) {
    return fs.readFileSync(r.variables.collab_admin_token_file).toString()
           .trim();
}

async function steps(r) {
    const names = new Names();
    let base = 'http://127.0.0.1:' + r.variables.server_port;
    const lines = (r.requestText || '').split('\n');
    let token = null;
    let extra = {};
    let out = '';

    for (let i = 0; i < lines.length; i++) {
        let line = lines[i].trim();

        if (line === '' || line[0] === '#') {
            continue;
        }

        try {
            if (line.startsWith('as ')) {
                const who = line.substring(3).trim();
                token = who === 'none' ? null
                        : who === 'admin' ? adminToken(r)
                        : names.show(who);
                continue;
            }

            if (line.startsWith('sleep ')) {
                const ms = Number(line.substring(6));
                await new Promise(function (done) { setTimeout(done, ms); });
                continue;
            }

            if (line === 'disk') {
                out += disk(r, names);
                continue;
            }

            if (line.startsWith('port ')) {
                base = 'http://127.0.0.1:'
                       + (line === 'port second' ? r.variables.collab_port2
                                                 : r.variables.server_port);
                continue;
            }

            if (line.startsWith('header ')) {
                const h = line.substring(7);
                const c = h.indexOf(':');
                extra[h.substring(0, c).trim()] = names.show(h.substring(c + 1)
                                                             .trim());
                continue;
            }

            let raw = false;
            let repeat = 0;
            let count = false;

            if (line.startsWith('count ')) {
                count = true;
                line = line.substring(6);
            }

            if (line.startsWith('raw ')) {
                raw = true;
                line = line.substring(4);
            }

            if (line.startsWith('repeat ')) {
                const m = line.match(/^repeat (\d+) (.*)$/);
                repeat = Number(m[1]);
                line = m[2];
            }

            const sp1 = line.indexOf(' ');
            const method = line.substring(0, sp1);
            let rest = line.substring(sp1 + 1);
            const sp2 = rest.indexOf(' ');
            const path = sp2 < 0 ? rest : rest.substring(0, sp2);
            const body = sp2 < 0 ? null : rest.substring(sp2 + 1);

            const headers = {};
            if (token !== null) {
                headers['Authorization'] = 'Bearer ' + token;
            }
            if (body !== null && !raw) {
                headers['Content-Type'] = 'application/json';
            }
            for (const k in extra) {
                headers[k] = extra[k];
            }
            extra = {};

            const opts = { method: method, headers: headers };
            if (body !== null) {
                opts.body = names.show(body);
            }

            if (repeat) {
                const all = [];
                for (let k = 0; k < repeat; k++) {
                    const each = Object.assign({}, opts);
                    if (body !== null) {
                        each.body = opts.body.replace(/\{i\}/g, String(k));
                    }
                    all.push(ngx.fetch(base + names.show(path), each));
                }
                const list = await Promise.all(all);
                const statuses = {};
                const workers = {};
                let nworkers = 0;
                for (let k = 0; k < list.length; k++) {
                    statuses[list[k].status] =
                        (statuses[list[k].status] || 0) + 1;
                    const w = list[k].headers.get('X-Worker');
                    if (w && !workers[w]) {
                        workers[w] = 1;
                        nworkers++;
                    }
                    await list[k].text();
                }
                out += method + ' ' + path + ' x' + repeat + ' '
                       + Object.keys(statuses).sort().map(function (k) {
                             return k + ':' + statuses[k];
                         }).join(' ')
                       + (nworkers > 1 ? ' (several workers)' : '') + '\n';
                continue;
            }

            const res = await ngx.fetch(base + names.show(path), opts);
            const text = (await res.text()).replace(/\n$/, '');

            if (count) {
                const list = JSON.parse(text);
                out += method + ' ' + path + ' ' + res.status + ' '
                       + list.data.length + ' items, '
                       + (list.nextCursor === null ? 'last page' : 'more')
                       + '\n';
                continue;
            }

            out += method + ' ' + path + ' ' + res.status
                   + (text.length ? ' ' + names.hide(text) : '') + '\n';

        } catch (e) {
            out += 'step ' + (i + 1) + ' failed: ' + e.message + '\n';
        }
    }

    r.return(200, out);
}

export default { steps };
