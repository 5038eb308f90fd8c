// The test side of t/900-edge-verifier.t, on the edge server (the second
// port), next to conf/njs/collab-verify.js:
//
//     POST /edge-secrets {"secret": "...", "previous": "..."}
//         the secrets the verifier is given from then on, kept in
//         $collab_edge_secrets_file and read back by secret() and
//         previous(), the js_set handlers of $collab_webhook_secret and
//         $collab_webhook_secret_previous;
//
//     POST /replay {"path": "/edge/ok", "body": "...", "headers": {...}}
//         sends the latest request that the application received (from
//         $collab_received_file) again, to path on this server: the same
//         body and signature headers, but "body" replaces the body and
//         "headers" replaces some headers (null removes one).  Answers
//         with the status and body that came back.

import fs from 'fs';

function load(r) {
    try {
        const file = r.variables.collab_edge_secrets_file;

        return JSON.parse(fs.readFileSync(file));
    } catch (e) {
        return {};
    }
}

function secrets(r) {
    const given = JSON.parse(r.requestText);

    fs.writeFileSync(r.variables.collab_edge_secrets_file,
                     JSON.stringify(given));
    r.return(200, 'secrets ' + Object.keys(given).join(' ') + '\n');
}

function secret(r) {
    return load(r).secret || '';
}

function previous(r) {
    return load(r).previous || '';
}

async function replay(r) {
    const how = JSON.parse(r.requestText);
    const lines = fs.readFileSync(r.variables.collab_received_file).toString()
                  .split('\n').filter(function (l) { return l.length; });
    const e = JSON.parse(lines[lines.length - 1]);
    const headers = {
        'Content-Type': e.ct,
        'User-Agent': e.ua,
        'X-Webhook-Signature': e.sig,
        'webhook-id': e.id,
        'webhook-timestamp': e.ts,
        'webhook-signature': e.std
    };

    for (const k in how.headers || {}) {
        if (how.headers[k] === null) {
            delete headers[k];

        } else {
            headers[k] = how.headers[k];
        }
    }

    const res = await ngx.fetch('http://127.0.0.1:' + r.variables.server_port
                                + how.path,
                                { method: 'POST', headers: headers,
                                  body: how.body !== undefined ? how.body
                                                               : e.body });

    const text = await res.text();

    r.return(res.status, text);
}

export default { secrets, secret, previous, replay };
