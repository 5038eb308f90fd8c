// collab-verify.js: checks the signatures of collab webhook deliveries at
// the edge of the receiving nginx, and passes only the verified ones on to
// the application.  For njs 0.7.9 (Debian bookworm's libnginx-mod-http-js)
// and later; see edge.conf beside this file.
//
//     js_import collab_verify from collab-verify.js;
//
//     location = /collab-webhook {
//         client_body_buffer_size         1m;
//         client_max_body_size            1m;
//         set $collab_webhook_secret          "whsec_...";
//         set $collab_webhook_secret_previous "";    # during a rotation
//         set $collab_webhook_tolerance       300;   # seconds
//         js_content collab_verify.verify;
//     }
//
//     location @collab_verified {
//         proxy_pass http://app;
//     }
//
// A delivery passes when all of these hold, else it is answered 401 with
// the reason as a short text line (and the reason is logged at "warn"):
//
//   - webhook-timestamp is within $collab_webhook_tolerance seconds of
//     now, either way (default 300): an old delivery replayed later is
//     refused;
//   - one of the "v1,<base64>" signatures of webhook-signature (a
//     space-separated list) is the HMAC-SHA256 of "id.timestamp.body",
//     keyed with the base64-decoded part of a secret after "whsec_";
//   - X-Webhook-Signature is the hex HMAC-SHA256 of the body, keyed with
//     the secret string itself.
//
// Each signature may be made with $collab_webhook_secret or, while a
// rotation is going on, with $collab_webhook_secret_previous.  After
// "POST /webhooks/{id}/rotate-secret", collab signs X-Webhook-Signature
// with the new secret at once and webhook-signature with both for 24 h:
// set the new secret as $collab_webhook_secret, the old one as
// $collab_webhook_secret_previous, reload, and clear the old one later.
// Deliveries refused in between are retried by collab.
//
// A verified delivery goes to the location named by $collab_webhook_pass
// (default "@collab_verified") by an internal redirect: the request keeps
// its method, headers and the body that was read, so proxy_pass sends the
// delivery on unchanged, and the application's answer (a 2xx, or a 5xx
// that makes collab retry) goes back to collab as it is.
//
// Why js_content and not auth_request: the signatures cover the body, and
// an auth_request subrequest runs in the access phase, before nginx has
// read the body, so an njs handler there cannot see it.  js_content reads
// the body first.  The body must fit in client_body_buffer_size: njs 0.7.9
// cannot read a body that nginx wrote to a temporary file, and such a
// delivery is answered 413.
//
// Signatures are compared by a loop that looks at every character whatever
// it finds (njs 0.7.9 has no crypto.timingSafeEqual), so the time taken
// does not tell how much of a forged signature was right.
//
// The application still deduplicates by webhook-id: a delivery is sent at
// least once, and a copy replayed within the tolerance passes here too.

import crypto from 'crypto';

const TOLERANCE = 300;
const PASS = '@collab_verified';
const SECRET = /^whsec_[A-Za-z0-9+\/]+={0,2}$/;

function refuse(r, status, reason) {
    r.warn('collab webhook refused: ' + reason);
    r.headersOut['Content-Type'] = 'text/plain';
    r.return(status, reason + '\n');
}

// true when a and b are equal, in a time that depends on their lengths only
function same(a, b) {
    let diff = a.length ^ b.length;

    for (let i = 0; i < a.length; i++) {
        diff |= a.charCodeAt(i) ^ (i < b.length ? b.charCodeAt(i) : 0);
    }

    return diff === 0;
}

function secrets(r) {
    const all = [];
    const names = ['collab_webhook_secret', 'collab_webhook_secret_previous'];

    for (let i = 0; i < names.length; i++) {
        const s = r.variables[names[i]];

        if (s !== undefined && s.length) {
            all.push(s);
        }
    }

    return all;
}

function tolerance(r) {
    const t = r.variables.collab_webhook_tolerance;

    if (t === undefined || t === '') {
        return TOLERANCE;
    }

    return /^[0-9]+$/.test(t) ? Number(t) : -1;
}

function hexSignature(secret, body) {
    return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

function standardSignature(secret, id, ts, body) {
    const key = Buffer.from(secret.substring(6), 'base64');

    return 'v1,' + crypto.createHmac('sha256', key)
                   .update(id + '.' + ts + '.').update(body)
                   .digest('base64');
}

// the reason to refuse the delivery, or null when it is genuine
function check(r, keys, body) {
    const h = r.headersIn;
    const id = h['webhook-id'];
    const ts = h['webhook-timestamp'];
    const std = h['webhook-signature'];
    const hex = h['X-Webhook-Signature'];

    if (!id) {
        return 'missing webhook-id';
    }

    if (!ts || !/^[0-9]{1,12}$/.test(ts)) {
        return 'missing or malformed webhook-timestamp';
    }

    if (!std) {
        return 'missing webhook-signature';
    }

    if (!hex) {
        return 'missing X-Webhook-Signature';
    }

    if (Math.abs(Date.now() / 1000 - Number(ts)) > tolerance(r)) {
        return 'webhook-timestamp is outside the tolerance';
    }

    const given = std.split(' ');
    let good = false;

    for (let k = 0; k < keys.length; k++) {
        const want = standardSignature(keys[k], id, ts, body);

        for (let i = 0; i < given.length; i++) {
            if (same(want, given[i])) {
                good = true;
            }
        }
    }

    if (!good) {
        return 'webhook-signature does not match';
    }

    good = false;

    for (let k = 0; k < keys.length; k++) {
        if (same(hexSignature(keys[k], body), hex)) {
            good = true;
        }
    }

    if (!good) {
        return 'X-Webhook-Signature does not match';
    }

    return null;
}

function verify(r) {
    const keys = secrets(r);

    for (let k = 0; k < keys.length; k++) {
        if (!SECRET.test(keys[k])) {
            r.error('collab webhook verifier: a secret is "whsec_" and'
                    + ' base64, as collab gave it');
            r.return(500, 'the webhook verifier is not configured\n');
            return;
        }
    }

    if (!keys.length || tolerance(r) < 0) {
        r.error('collab webhook verifier: set $collab_webhook_secret, and'
                + ' $collab_webhook_tolerance to a number of seconds');
        r.return(500, 'the webhook verifier is not configured\n');
        return;
    }

    let body;

    try {
        body = r.requestBuffer;
    } catch (e) {
        refuse(r, 413, 'body larger than client_body_buffer_size');
        return;
    }

    if (body === undefined) {
        body = Buffer.from('');
    }

    const reason = check(r, keys, body);

    if (reason !== null) {
        refuse(r, 401, reason);
        return;
    }

    r.internalRedirect(r.variables.collab_webhook_pass || PASS);
}

export default { verify };
