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
//                               $collab_port2, or $collab_port3 for "port
//                               third"; "port first" goes back)
//     tally                     (how many requests the receiver got, and
//                               how many distinct webhook-ids)
//     METHOD PATH [BODY]        (BODY is sent as application/json)
//     raw METHOD PATH [BODY]    (no Content-Type unless a header step set it)
//     repeat N METHOD PATH [BODY]
//                               (N requests at once; one line with the count
//                               of each status and of the distinct workers
//                               that answered, from an X-Worker header; {i}
//                               in the body is the request's number, 0..N-1)
//     sleep MS                  (wait that many milliseconds)
//     wait N                    (until the receiver has N requests in all;
//                               at most 15 s)
//     received                  (the receiver's requests since the last
//                               "received", one line each: path, body,
//                               webhook-id, and which known secret signed
//                               X-Webhook-Signature and webhook-signature)
//     pidfile                   (writes the pid of the worker running these
//                               steps to $collab_received_file.pid)
//     know SECRET               (a webhook secret the test set up itself,
//                               to be named and checked like the others)
//     count METHOD PATH         (a list: prints only how many items it has
//                               and whether a next page exists)
//     settled N GET PATH        (a list of executions: asks again until it
//                               has N items, none pending or running, at
//                               most 30 s; then prints it as a GET would)
//     background METHOD PATH [BODY]
//                               (sent now; its line comes with "join")
//     during METHOD PATH [BODY] (a request whose line says whether the
//                               background requests were still unanswered
//                               when it was answered)
//     join                      (waits for the background requests and
//                               prints their lines, in order)
//     write NAME TEXT           (TEXT, names shown, into the file NAME next
//                               to $collab_received_file)
//     sse NAME                  (that file, a Server-Sent Events stream:
//                               its fields before the first event, then
//                               one line per event, sorted by the result
//                               of the execution it carries; the client
//                               that wrote it may leave its request line
//                               and the answer's head in NAME.head, for
//                               the contract log)
//     pick A,B.C,#D METHOD PATH [BODY]
//                               (prints only those members of the JSON
//                               answer: A, B.C, and the length of D)
//     disk                      (the files folder, $collab_files: one line
//                               per room folder with the names in it)
//     # comment
//
// {port2} and {port3} in a step stand for $collab_port2 and $collab_port3.
//
// When $collab_contract_log names a file (t/910-openapi.t has CollabTest set
// it), every request step appends its request and answer to that file, one
// JSON line each, for the contract check of docs/openapi.yaml.
//
// receive() is the webhook receiver of the tests (a location on the
// second port): it appends every request to $collab_received_file and
// answers as its path says: /hook/ok 200, /hook/status/N N,
// /hook/retry-after/S 429 with Retry-After: S, /hook/slow/MS 200 after MS
// milliseconds, /hook/flaky/N 503 for the first N tries of a webhook-id.

import fs from 'fs';
import crypto from 'crypto';

const ID = /\b(acc|key|evt|wh|wf|dlv|exe|user|blob)_[0-9A-Za-z]{22}\b/g;
const TOKEN = /\bck_[0-9A-Za-z]{43}\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b/g;
const CURSOR = /"nextCursor":"([^"]+)"/g;
const SECRET = /whsec_[A-Za-z0-9+\/]{32}/g;
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
    text = text.replace(SECRET, function (m) {
        return self.name('secret', m);
    });
    text = text.replace(ID, function (m, kind) { return self.name(kind, m); });
    text = text.replace(UUID, function (m) { return self.name('room', m); });
    text = text.replace(/"durationMs":\d+/g, '"durationMs":<ms>');
    text = text.replace(/"ms":\d+/g, '"ms":<ms>');
    return text.replace(TS, '<ts>');
};

Names.prototype.show = function (text) {
    const self = this;
    const self2 = this;
    text = text.replace(/\{port2\}/g, function () {
        return self2.port2;
    });
    text = text.replace(/\{port3\}/g, function () {
        return self2.port3;
    });
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

function receivedFile(r) {
    return r.variables.collab_received_file;
}

function readReceived(r) {
    let text = '';
    try {
        text = fs.readFileSync(receivedFile(r)).toString();
    } catch (e) {
        return [];
    }
    return text.split('\n').filter(function (l) { return l.length; })
               .map(function (l) { return JSON.parse(l); });
}

function hexSig(secret, body) {
    return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

function v1Sig(secret, id, ts, body) {
    const key = Buffer.from(secret.substring(6), 'base64');
    return 'v1,' + crypto.createHmac('sha256', key)
                   .update(id + '.' + ts + '.' + body).digest('base64');
}

function showReceived(names, e) {
    const secrets = Object.keys(names.byValue).filter(function (v) {
        return v.startsWith('whsec_');
    });
    let seed = 'none';
    let std = [];

    /* the product document's verifier: HMAC over JSON.stringify(body) */
    let again = null;
    try {
        again = JSON.stringify(JSON.parse(e.body));
    } catch (x) {
        again = null;
    }

    for (let i = 0; i < secrets.length; i++) {
        if (again !== null && again === e.body
            && hexSig(secrets[i], again) === e.sig)
        {
            seed = names.byValue[secrets[i]];
        }
    }

    const sigs = (e.std || '').split(' ');
    for (let k = 0; k < sigs.length; k++) {
        let who = 'bad';
        for (let i = 0; i < secrets.length; i++) {
            if (v1Sig(secrets[i], e.id, e.ts, e.body) === sigs[k]) {
                who = names.byValue[secrets[i]];
            }
        }
        std.push(who);
    }

    const age = Math.abs(Date.now() / 1000 - Number(e.ts));

    return '<- ' + e.path + ' ' + names.hide(e.body)
           + ' id:' + names.hide(e.id)
           + ' signed:' + seed + ' standard:' + std.join(',')
           + (age < 300 ? '' : ' stale-timestamp')
           + (e.ua.startsWith('collab-webhooks/') ? '' : ' ua:' + e.ua)
           + (e.ct === 'application/json' ? '' : ' ct:' + e.ct);
}

function receive(r) {
    const body = r.requestBuffer ? r.requestBuffer.toString('utf8') : '';
    const h = r.headersIn;
    const entry = {
        path: r.uri,
        body: body,
        sig: h['X-Webhook-Signature'] || '',
        id: h['webhook-id'] || '',
        ts: h['webhook-timestamp'] || '',
        std: h['webhook-signature'] || '',
        ua: h['User-Agent'] || '',
        ct: h['Content-Type'] || ''
    };
    const before = readReceived(r).filter(function (e) {
        return e.id === entry.id;
    }).length;

    fs.appendFileSync(receivedFile(r), JSON.stringify(entry) + '\n');

    const parts = r.uri.split('/');
    const arg = Number(parts[3]);

    switch (parts[2]) {
    case 'status':
        r.return(arg, 'status ' + arg + '\n');
        return;
    case 'retry-after':
        r.headersOut['Retry-After'] = String(arg);
        r.return(429, 'slow down\n');
        return;
    case 'slow':
        setTimeout(function () { r.return(200, 'late\n'); }, arg);
        return;
    case 'flaky':
        r.return(before < arg ? 503 : 200, 'try ' + (before + 1) + '\n');
        return;
    default:
        r.return(200, 'ok\n');
    }
}

const RECORDED = ['Allow', 'WWW-Authenticate', 'ETag', 'Content-Range',
                  'Retry-After'];

function record(r, method, url, opts, res, text) {
    const file = r.variables.collab_contract_log;

    if (!file) {
        return;
    }

    const headers = {};
    for (let k = 0; k < RECORDED.length; k++) {
        const v = res.headers.get(RECORDED[k]);
        if (v !== null && v !== undefined) {
            headers[RECORDED[k]] = v;
        }
    }

    fs.appendFileSync(file, JSON.stringify({
        method: method,
        url: url.replace(/^http:\/\/[^\/]+/, ''),
        requestType: opts.headers['Content-Type'] || null,
        status: res.status,
        type: res.headers.get('Content-Type'),
        headers: headers,
        body: text
    }) + '\n');
}

// a stream that a client outside nginx read: NAME.head has its request
// line ("GET PATH") and the answer's head, NAME its body
function recordStream(r, file, text) {
    if (!r.variables.collab_contract_log) {
        return;
    }

    let head;
    try {
        head = fs.readFileSync(file + '.head').toString();
    } catch (x) {
        return;
    }

    const lines = head.split(/\r?\n/);
    const req = lines[0].split(' ');
    const status = (lines[1] || '').split(' ')[1];
    const fields = {};

    for (let k = 2; k < lines.length; k++) {
        const c = lines[k].indexOf(':');
        if (c > 0) {
            fields[lines[k].substring(0, c).toLowerCase()] =
                lines[k].substring(c + 1).trim();
        }
    }

    const res = {
        status: Number(status),
        headers: { get: function (h) {
            const v = fields[h.toLowerCase()];
            return v === undefined ? null : v;
        } }
    };

    record(r, req[0], req[1], { headers: {} }, res, text);
}

async function steps(r) {
    const names = new Names();
    names.port2 = r.variables.collab_port2;
    names.port3 = r.variables.collab_port3;
    let seen = 0;
    let base = 'http://127.0.0.1:' + r.variables.server_port;
    const lines = (r.requestText || '').split('\n');
    let token = null;
    let extra = {};
    let out = '';
    let background = [];

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

            if (line.startsWith('wait ')) {
                const want = Number(line.substring(5));
                let have = 0;
                for (let t = 0; t < 300; t++) {
                    have = readReceived(r).length;
                    if (have >= want) {
                        break;
                    }
                    await new Promise(function (done) {
                        setTimeout(done, 50);
                    });
                }
                out += (have >= want ? 'received ' + want
                                     : 'received only ' + have) + '\n';
                continue;
            }

            if (line.startsWith('write ')) {
                const m = line.match(/^write (\S+) (.*)$/);
                const dir = receivedFile(r).replace(/[^\/]*$/, '');
                fs.writeFileSync(dir + m[1], names.show(m[2]));
                continue;
            }

            if (line.startsWith('sse ')) {
                const dir = receivedFile(r).replace(/[^\/]*$/, '');
                let text = '';
                try {
                    text = fs.readFileSync(dir + line.substring(4))
                           .toString();
                } catch (x) {
                    text = '';
                }
                recordStream(r, dir + line.substring(4), text);
                const head = [];
                const events = [];
                text.split('\n\n').forEach(function (block) {
                    const f = {};
                    block.split('\n').forEach(function (l) {
                        const c = l.indexOf(':');
                        if (c > 0) {
                            f[l.substring(0, c)] = l.substring(c + 1).trim();
                        } else if (c === 0) {
                            f.comment = l.substring(1).trim();
                        }
                    });
                    if (f.event === undefined) {
                        if (block.trim().length) {
                            head.push(block.trim().replace(/\n/g, ' | '));
                        }
                        return;
                    }
                    const data = JSON.parse(f.data);
                    events.push({ key: JSON.stringify(data.result),
                                  f: f, data: data });
                });
                events.sort(function (a, b) {
                    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
                });
                head.forEach(function (h) { out += 'sse ' + h + '\n'; });
                events.forEach(function (e) {
                    out += names.hide('event: ' + e.f.event + ' | id: '
                                      + e.f.id + ' | data.id: '
                                      + e.data.id + ' ' + e.data.status
                                      + ' ' + JSON.stringify(e.data.result))
                           + '\n';
                });
                out += 'sse: ' + events.length + ' events\n';
                continue;
            }

            if (line === 'pidfile') {
                fs.writeFileSync(receivedFile(r) + '.pid',
                                 String(r.variables.pid));
                continue;
            }

            if (line.startsWith('know ')) {
                names.name('secret', line.substring(5).trim());
                continue;
            }

            if (line === 'tally') {
                const all = readReceived(r);
                const ids = {};
                let distinct = 0;
                for (let k = 0; k < all.length; k++) {
                    if (!ids[all[k].id]) {
                        ids[all[k].id] = 1;
                        distinct++;
                    }
                }
                out += all.length + ' requests, ' + distinct
                       + ' distinct webhook-ids\n';
                continue;
            }

            if (line === 'received') {
                const all = readReceived(r);
                for (; seen < all.length; seen++) {
                    out += showReceived(names, all[seen]) + '\n';
                }
                continue;
            }

            if (line.startsWith('port ')) {
                base = 'http://127.0.0.1:'
                       + (line === 'port second' ? r.variables.collab_port2
                          : line === 'port third' ? r.variables.collab_port3
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

            if (line === 'join') {
                for (let k = 0; k < background.length; k++) {
                    out += await background[k].line;
                }
                background = [];
                continue;
            }

            let raw = false;
            let repeat = 0;
            let count = false;
            let settled = 0;
            let bg = false;
            let during = false;
            let pick = null;

            if (line.startsWith('pick ')) {
                const m = line.match(/^pick (\S+) (.*)$/);
                pick = m[1].split(',');
                line = m[2];
            }

            if (line.startsWith('count ')) {
                count = true;
                line = line.substring(6);
            }

            if (line.startsWith('settled ')) {
                const m = line.match(/^settled (\d+) (.*)$/);
                settled = Number(m[1]);
                line = m[2];
            }

            if (line.startsWith('background ')) {
                bg = true;
                line = line.substring(11);
            }

            if (line.startsWith('during ')) {
                during = true;
                line = line.substring(7);
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

            const url = base + names.show(path);

            if (bg) {
                const entry = { done: false };
                entry.line = ngx.fetch(url, opts).then(async function (res) {
                    const t = (await res.text()).replace(/\n$/, '');
                    entry.done = true;
                    return method + ' ' + path + ' ' + res.status
                           + (t.length ? ' ' + names.hide(t) : '') + '\n';
                }, function (e) {
                    entry.done = true;
                    return method + ' ' + path + ' failed: ' + e.message
                           + '\n';
                });
                background.push(entry);
                continue;
            }

            let res = await ngx.fetch(url, opts);
            let answer = await res.text();
            let text = answer.replace(/\n$/, '');

            /* a list of executions, until every one of them has run */
            for (let t = 0; settled && t < 300; t++) {
                let list = null;
                try {
                    list = JSON.parse(text);
                } catch (x) {
                    list = null;
                }
                if (list && list.data && list.data.length >= settled
                    && list.data.every(function (x) {
                           return x.status !== 'pending'
                                  && x.status !== 'running';
                       }))
                {
                    break;
                }
                await new Promise(function (done) {
                    setTimeout(done, 100);
                });
                res = await ngx.fetch(url, opts);
                answer = await res.text();
                text = answer.replace(/\n$/, '');
            }

            record(r, method, url, opts, res, answer);

            if (during) {
                const waiting = background.some(function (b) {
                    return !b.done;
                });
                out += method + ' ' + path + ' ' + res.status
                       + (waiting ? ' (answered while the background'
                                    + ' request waited)'
                                  : ' (answered after the background'
                                    + ' request)')
                       + (text.length ? ' ' + names.hide(text) : '') + '\n';
                continue;
            }

            if (pick) {
                const all = JSON.parse(text);
                const picked = {};
                pick.forEach(function (f) {
                    const len = f[0] === '#';
                    let v = all;
                    (len ? f.substring(1) : f).split('.').forEach(function (k) {
                        v = (v === null || v === undefined) ? v : v[k];
                    });
                    picked[f] = len ? (v ? v.length : v) : v;
                });
                out += method + ' ' + path + ' ' + res.status + ' '
                       + names.hide(JSON.stringify(picked)) + '\n';
                continue;
            }

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

export default { steps, receive };
