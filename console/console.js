/*
 * The collab console: plain JavaScript, no framework, no requests to
 * anywhere but this server's /v1 API.  The account id and key are kept
 * in sessionStorage only.
 */
'use strict';

var API = '/v1';
var CONSOLE_USER = 'collab-console';

var state = {
    account: sessionStorage.getItem('collab.account') || '',
    key: sessionStorage.getItem('collab.key') || '',
    room: null,
    webhook: null,
    workflow: null,
    presence: null,          /* EventSource, or a timer when polling */
    tail: null,              /* AbortController of the tail's fetch */
    deliveries: [],
    executions: [],
    timer: null
};

function $(id) { return document.getElementById(id); }

function say(text) { $('status').textContent = text; }

function el(tag, props, children) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
        if (k === 'text') {
            e.textContent = props[k];
        } else if (k === 'onclick') {
            e.addEventListener('click', props[k]);
        } else {
            e.setAttribute(k, props[k]);
        }
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
}

function accountPath(rest) {
    return '/accounts/' + encodeURIComponent(state.account) + rest;
}

/* a request to the API; resolves to {status, body} */
function api(method, path, body) {
    var opts = { method: method, headers: { Authorization: 'Bearer ' + state.key } };
    if (body !== undefined) {
        opts.headers['Content-Type'] = 'application/json';
        opts.body = JSON.stringify(body);
    }
    return fetch(API + path, opts).then(function (res) {
        return res.text().then(function (text) {
            var json = null;
            try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
            return { status: res.status, body: json };
        });
    });
}

function when(iso) {
    return iso ? new Date(iso).toISOString().slice(11, 19) + ' UTC' : '—';
}

/* ---- rooms and presence ---- */

function loadRooms() {
    return api('GET', accountPath('/rooms?limit=100')).then(function (r) {
        if (r.status !== 200) {
            throw new Error('rooms: HTTP ' + r.status);
        }
        /* drawn again only when it changes: a focused button stays */
        var seen = JSON.stringify(r.body.data);
        if (seen === state.roomsSeen) {
            return;
        }
        state.roomsSeen = seen;
        var list = $('rooms');
        list.textContent = '';
        r.body.data.forEach(function (room) {
            var b = el('button', { type: 'button', text: room.name || room.id,
                                   'data-room': room.id,
                                   onclick: function () { openRoom(room); } });
            if (state.room && state.room.id === room.id) {
                b.setAttribute('aria-current', 'true');
            }
            list.appendChild(el('li', {}, [b]));
        });
        if (r.body.data.length === 0) {
            list.appendChild(el('li', { class: 'note', text: 'No rooms yet.' }));
        }
    });
}

function showParticipants(participants) {
    var list = $('presence');
    list.textContent = '';
    participants.forEach(function (p) {
        var label = p.userId + (p.userId === CONSOLE_USER ? ' (this console)' : '')
                    + ' — since ' + when(p.since);
        list.appendChild(el('li', { 'data-user': p.userId, text: label }));
    });
}

function closePresence() {
    if (state.presence && state.presence.close) {
        state.presence.close();
    } else if (state.presence) {
        clearInterval(state.presence);
    }
    state.presence = null;
}

function pollPresence(room) {
    $('presence-mode').textContent = 'Polled every 3 seconds (the live stream '
                                     + 'could not be opened).';
    function poll() {
        api('GET', accountPath('/rooms/' + encodeURIComponent(room.id)
                               + '/presence')).then(function (r) {
            if (r.status === 200) {
                showParticipants(r.body.data);
            }
        });
    }
    poll();
    state.presence = setInterval(poll, 3000);
}

/*
 * The live way: a console user in the room, a client token for it, and
 * the room's stream; every join or leave brings a fresh list.
 */
function openRoom(room) {
    closePresence();
    state.room = room;
    $('presence-room').textContent = 'in ' + (room.name || room.id);
    Array.prototype.forEach.call($('rooms').querySelectorAll('button'), function (b) {
        b.setAttribute('aria-current', b.getAttribute('data-room') === room.id);
    });
    var base = accountPath('/rooms/' + encodeURIComponent(room.id));

    api('POST', base + '/users', { userId: CONSOLE_USER, name: 'console' })
    .then(function (r) {
        if (r.status !== 201 && r.status !== 409) {
            throw new Error('user: HTTP ' + r.status);
        }
        return api('POST', base + '/users/' + CONSOLE_USER + '/tokens', { ttl: 3600 });
    }).then(function (r) {
        if (r.status !== 201) {
            throw new Error('token: HTTP ' + r.status);
        }
        var es = new EventSource(API + base + '/connect?token='
                                 + encodeURIComponent(r.body.token));
        var opened = false;
        state.presence = es;
        $('presence-mode').textContent = 'Connecting to the live stream…';
        es.addEventListener('presence', function (m) {
            opened = true;
            $('presence-mode').textContent = 'Live.';
            showParticipants(JSON.parse(m.data).participants);
        });
        function changed() {
            api('GET', base + '/presence').then(function (p) {
                if (p.status === 200) {
                    showParticipants(p.body.data);
                }
            });
        }
        es.addEventListener('participant.joined', changed);
        es.addEventListener('participant.left', changed);
        es.addEventListener('error', function () {
            if (!opened && state.presence === es) {
                es.close();
                pollPresence(room);
            }
        });
    }).catch(function (e) {
        say(e.message);
        pollPresence(room);
    });
}

/* ---- webhooks and deliveries ---- */

function loadWebhooks() {
    return api('GET', accountPath('/webhooks?limit=100')).then(function (r) {
        var list = $('webhooks');
        if (r.status !== 200) {
            state.webhooksSeen = null;
            list.textContent = '';
            list.appendChild(el('li', { class: 'note', text: 'HTTP ' + r.status }));
            return;
        }
        var seen = JSON.stringify(r.body.data);
        if (seen === state.webhooksSeen) {
            return;
        }
        state.webhooksSeen = seen;
        list.textContent = '';
        r.body.data.forEach(function (h) {
            var b = el('button', { type: 'button', text: h.url, 'data-webhook': h.id,
                                   onclick: function () { openWebhook(h); } });
            if (state.webhook && state.webhook.id === h.id) {
                b.setAttribute('aria-current', 'true');
            }
            list.appendChild(el('li', {}, [b,
                document.createTextNode(h.enabled ? '' : ' (disabled)')]));
        });
        if (r.body.data.length === 0) {
            list.appendChild(el('li', { class: 'note', text: 'No webhooks.' }));
        }
    });
}

function openWebhook(h) {
    state.webhook = h;
    $('hook-actions').hidden = false;
    Array.prototype.forEach.call($('webhooks').querySelectorAll('button'), function (b) {
        b.setAttribute('aria-current', b.getAttribute('data-webhook') === h.id);
    });
    $('attempts').textContent = '';
    state.deliveriesSeen = null;
    loadDeliveries();
}

function hookPath(rest) {
    return accountPath('/webhooks/' + encodeURIComponent(state.webhook.id) + rest);
}

function loadDeliveries() {
    if (!state.webhook) {
        return Promise.resolve();
    }
    return api('GET', hookPath('/deliveries?limit=100')).then(function (r) {
        if (r.status !== 200) {
            return;
        }
        /* the same list is not drawn again: it would be read out again */
        var seen = JSON.stringify(r.body.data);
        if (seen === state.deliveriesSeen) {
            return;
        }
        state.deliveriesSeen = seen;
        state.deliveries = r.body.data;
        var body = $('deliveries');
        body.textContent = '';
        r.body.data.forEach(function (d) {
            var retry = el('button', { type: 'button', text: 'Retry',
                                       'aria-label': 'Retry delivery ' + d.id,
                                       onclick: function () { retryDelivery(d); } });
            var log = el('button', { type: 'button', text: 'Attempts',
                                     'aria-label': 'Attempt log of delivery ' + d.id,
                                     onclick: function () { showAttempts(d); } });
            body.appendChild(el('tr', { 'data-delivery': d.id }, [
                el('td', { text: when(d.createdAt) }),
                el('td', { text: d.event }),
                el('td', {}, [deliveryStatus(d)]),
                el('td', { text: d.statusCode == null ? '—' : String(d.statusCode) }),
                el('td', { text: String(d.attempts) }),
                el('td', { text: when(d.nextRetryAt) }),
                el('td', {}, [retry, document.createTextNode(' '), log])
            ]));
        });
        drawChart();
    });
}

/* a pending delivery whose last attempt failed is shown as failing */
function deliveryStatus(d) {
    var cls = d.status;
    var text = d.status;
    if (d.status === 'pending' && d.attempts > 0) {
        cls = 'failed';
        text = 'retrying';
    }
    return el('span', { class: 'status ' + cls, text: text });
}

function retryDelivery(d) {
    api('POST', hookPath('/deliveries/' + encodeURIComponent(d.id) + '/retry'))
    .then(function (r) {
        say(r.status === 202 ? 'Retry of ' + d.id + ' queued.'
                             : 'Retry refused: HTTP ' + r.status);
        setTimeout(loadDeliveries, 500);
    });
}

function showAttempts(d) {
    api('GET', hookPath('/deliveries/' + encodeURIComponent(d.id))).then(function (r) {
        if (r.status !== 200) {
            $('attempts').textContent = 'HTTP ' + r.status;
            return;
        }
        var lines = (r.body.attemptLog || []).map(function (a) {
            return a.at + '  ' + (a.statusCode == null ? '—' : a.statusCode)
                   + '  ' + a.durationMs + ' ms'
                   + (a.error ? '  ' + a.error : '')
                   + (a.response ? '\n    ' + a.response : '');
        });
        $('attempts').textContent = 'Delivery ' + d.id + '\n'
                                    + (lines.join('\n') || 'No attempts yet.');
    });
}

function recover() {
    var since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    api('POST', hookPath('/recover'), { since: since }).then(function (r) {
        say(r.status === 202 ? r.body.recovered + ' deliveries queued again.'
                             : 'Recover refused: HTTP ' + r.status);
        setTimeout(loadDeliveries, 500);
    });
}

/* ---- workflows and executions ---- */

function loadWorkflows() {
    return api('GET', accountPath('/workflows?limit=100')).then(function (r) {
        var list = $('workflows');
        if (r.status === 404) {
            list.textContent = '';
            state.workflowsSeen = null;
            $('flows-note').textContent = 'This server has no workflows '
                                          + '(the routes answer 404).';
            return;
        }
        if (r.status !== 200) {
            $('flows-note').textContent = 'Workflows: HTTP ' + r.status;
            return;
        }
        $('flows-note').textContent = '';
        /* drawn again only when it changes: a focused button stays */
        var seen = JSON.stringify(r.body.data);
        if (seen === state.workflowsSeen) {
            return;
        }
        state.workflowsSeen = seen;
        list.textContent = '';
        r.body.data.forEach(function (w) {
            var b = el('button', { type: 'button', text: w.name || w.id,
                                   'data-workflow': w.id,
                                   onclick: function () { openWorkflow(w); } });
            if (state.workflow && state.workflow.id === w.id) {
                b.setAttribute('aria-current', 'true');
            }
            list.appendChild(el('li', {}, [b, document.createTextNode(
                ' — ' + w.events.join(', ') + (w.roomId ? ' in ' + w.roomId : '')
                + (w.language === 'typescript' ? ', TypeScript' : '')
                + (w.enabled ? '' : ' (disabled)'))]));
        });
        if (r.body.data.length === 0) {
            list.appendChild(el('li', { class: 'note', text: 'No workflows.' }));
        }
    });
}

function flowPath(rest) {
    return accountPath('/workflows/' + encodeURIComponent(state.workflow.id) + rest);
}

/* success green; error and timeout red; pending and running yellow */
function executionStatus(x) {
    var cls = { success: 'success', error: 'failed', timeout: 'failed' }[x.status]
              || 'pending';
    return el('span', { class: 'status ' + cls, text: x.status });
}

function json(v) {
    return JSON.stringify(v, null, 2);
}

/*
 * An execution as text blocks: its line, what it logged, its fetches,
 * then its result or its error (and the payload when the answer has it).
 */
function executionView(x) {
    var parts = [el('p', { class: 'exe-line' }, [
        executionStatus(x),
        document.createTextNode(' ' + x.event + ' at ' + when(x.createdAt)
            + (x.durationMs == null ? '' : ', ' + x.durationMs + ' ms')
            + (x.attempts > 1 ? ', attempt ' + x.attempts : '')
            + ' (' + x.id + ')')
    ])];
    function block(cls, label, text) {
        parts.push(el('pre', { class: cls, 'aria-label': label, tabindex: '0',
                               text: text }));
    }
    if (x.logs && x.logs.length) {
        block('logs', 'Logs of ' + x.id, x.logs.map(function (l) {
            return when(l.at) + '  ' + l.level + '  ' + l.message;
        }).join('\n'));
    }
    if (x.fetches && x.fetches.length) {
        block('fetches', 'Fetches of ' + x.id, x.fetches.map(function (f) {
            return (f.status == null ? '—' : f.status) + '  ' + f.url
                   + (f.ms == null ? '' : '  ' + f.ms + ' ms')
                   + (f.error ? '  ' + f.error : '');
        }).join('\n'));
    }
    if (x.error) {
        /* a stack starts with the error's name and message */
        var stack = x.error.stack || '';
        block('error', 'Error of ' + x.id,
              stack.indexOf(x.error.message) >= 0 ? stack
              : 'Error: ' + x.error.message + (stack ? '\n' + stack : ''));
    } else if (x.status === 'success') {
        block('result', 'Result of ' + x.id, 'Result: ' + json(x.result));
    }
    if (x.payload !== undefined) {
        block('payload', 'Payload of ' + x.id, 'Payload: ' + json(x.payload));
    }
    return parts;
}

function loadExecutions() {
    if (!state.workflow) {
        return Promise.resolve();
    }
    return api('GET', flowPath('/executions?limit=100')).then(function (r) {
        if (r.status !== 200) {
            return;
        }
        var seen = JSON.stringify(r.body.data);
        if (seen === state.executionsSeen) {
            return;
        }
        state.executionsSeen = seen;
        state.executions = r.body.data;
        var list = $('executions');
        list.textContent = '';
        r.body.data.forEach(function (x) {
            list.appendChild(el('li', { 'data-execution': x.id }, [el('button', {
                type: 'button',
                'aria-label': 'Execution ' + x.id + ': ' + x.event + ', '
                              + x.status + ', ' + when(x.createdAt),
                onclick: function () { showExecution(x); } },
                [document.createTextNode(when(x.createdAt) + ' ' + x.event + ' '),
                 executionStatus(x)])]));
        });
        if (r.body.data.length === 0) {
            list.appendChild(el('li', { class: 'note', text: 'No executions yet.' }));
        }
        drawChart();
    });
}

/* the one execution, read again: its answer has the payload */
function showExecution(x) {
    api('GET', flowPath('/executions/' + encodeURIComponent(x.id)))
    .then(function (r) {
        var box = $('execution');
        box.textContent = '';
        if (r.status !== 200) {
            box.textContent = 'Execution ' + x.id + ': HTTP ' + r.status;
            return;
        }
        box.setAttribute('data-execution', r.body.id);
        executionView(r.body).forEach(function (n) { box.appendChild(n); });
    });
}

var TAIL_KEEP = 50;

function tailAdd(x) {
    var list = $('tail');
    var note = list.querySelector('.note');
    if (note) {
        list.removeChild(note);
    }
    list.appendChild(el('li', { 'data-execution': x.id, 'data-status': x.status },
                        executionView(x)));
    while (list.children.length > TAIL_KEEP) {
        list.removeChild(list.firstChild);
    }
}

/*
 * One message of the stream: its event name, data and retry, or null for
 * one with none (a comment).
 */
function sseMessage(text) {
    var m = { event: 'message', data: null, retry: null };
    text.split('\n').forEach(function (line) {
        if (line === '' || line.charAt(0) === ':') {
            return;
        }
        var at = line.indexOf(':');
        var field = at < 0 ? line : line.slice(0, at);
        var value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
        if (field === 'event') {
            m.event = value;
        } else if (field === 'data') {
            m.data = m.data === null ? value : m.data + '\n' + value;
        } else if (field === 'retry' && /^\d+$/.test(value)) {
            m.retry = parseInt(value, 10);
        }
    });
    return m;
}

/*
 * The tail is an SSE stream that needs the key in a header, which
 * EventSource cannot send: it is read with fetch instead.  Each execution
 * that finishes while it is open is added to the tail as it comes, and
 * the list is read again.  When the stream ends (nginx reloads, say), it
 * is opened again after the server's "retry".
 */
function openTail(w) {
    var ctl = new AbortController();
    var retry = 1000;
    state.tail = ctl;
    $('tail-mode').textContent = 'Connecting to the tail…';

    function again(why) {
        if (state.tail !== ctl || ctl.signal.aborted) {
            return;
        }
        $('tail-mode').textContent = why + ' Reconnecting…';
        setTimeout(function () {
            if (state.tail === ctl && !ctl.signal.aborted) {
                openTail(w);
                loadExecutions();
            }
        }, retry);
    }

    fetch(API + flowPath('/tail'), { headers: { Authorization: 'Bearer ' + state.key,
                                                Accept: 'text/event-stream' },
                                     signal: ctl.signal })
    .then(function (res) {
        if (!res.ok || !res.body) {
            $('tail-mode').textContent = 'The tail could not be opened: HTTP '
                                         + res.status + '.';
            return;
        }
        $('tail-mode').textContent = 'Live.';
        var reader = res.body.getReader();
        var dec = new TextDecoder();
        var buf = '';
        function read() {
            return reader.read().then(function (chunk) {
                if (chunk.done) {
                    again('The tail ended.');
                    return;
                }
                buf += dec.decode(chunk.value, { stream: true })
                       .replace(/\r\n?/g, '\n');
                var at;
                while ((at = buf.indexOf('\n\n')) >= 0) {
                    var m = sseMessage(buf.slice(0, at));
                    buf = buf.slice(at + 2);
                    if (m.retry !== null) {
                        retry = m.retry;
                    }
                    if (m.event === 'execution' && m.data !== null
                        && state.tail === ctl)
                    {
                        tailAdd(JSON.parse(m.data));
                        loadExecutions();
                    }
                }
                return read();
            });
        }
        return read();
    }).catch(function () {
        again('The tail broke off.');
    });
}

function closeTail() {
    if (state.tail) {
        state.tail.abort();
    }
    state.tail = null;
}

function openWorkflow(w) {
    closeTail();
    state.workflow = w;
    state.executionsSeen = null;
    Array.prototype.forEach.call($('workflows').querySelectorAll('button'), function (b) {
        b.setAttribute('aria-current', b.getAttribute('data-workflow') === w.id);
    });
    $('flow-name').textContent = 'of ' + (w.name || w.id);
    $('tail').textContent = '';
    $('tail').appendChild(el('li', { class: 'note',
        text: 'Executions that finish from now on appear here.' }));
    $('execution').textContent = '';
    $('flow-views').hidden = false;
    loadExecutions();
    openTail(w);
}

/* ---- the chart: deliveries and executions per minute ---- */

function perMinute(items, now) {
    var counts = new Array(30).fill(0);
    items.forEach(function (it) {
        var age = Math.floor((now - Date.parse(it.createdAt)) / 60000);
        if (age >= 0 && age < 30) {
            counts[29 - age]++;
        }
    });
    return counts;
}

function drawChart() {
    var ns = 'http://www.w3.org/2000/svg';
    var now = Date.now();
    var d = perMinute(state.deliveries, now);
    var x = perMinute(state.executions, now);
    var max = Math.max(1, Math.max.apply(null, d.concat(x)));
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 300 100');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'Deliveries and executions per minute: '
                     + d.reduce(function (a, b) { return a + b; }, 0) + ' deliveries, '
                     + x.reduce(function (a, b) { return a + b; }, 0)
                     + ' executions in the last 30 minutes');
    function bar(i, n, cls, off) {
        var r = document.createElementNS(ns, 'rect');
        var h = n / max * 90;
        r.setAttribute('x', i * 10 + off);
        r.setAttribute('y', 95 - h);
        r.setAttribute('width', 4);
        r.setAttribute('height', h);
        r.setAttribute('class', cls);
        svg.appendChild(r);
    }
    for (var i = 0; i < 30; i++) {
        bar(i, d[i], 'deliveries', 1);
        bar(i, x[i], 'executions', 5);
    }
    var axis = document.createElementNS(ns, 'line');
    axis.setAttribute('x1', 0);
    axis.setAttribute('x2', 300);
    axis.setAttribute('y1', 95);
    axis.setAttribute('y2', 95);
    axis.setAttribute('stroke', '#888');
    svg.appendChild(axis);
    $('chart').textContent = '';
    $('chart').appendChild(svg);
}

/* ---- start ---- */

function refresh() {
    return Promise.all([loadRooms(), loadWebhooks(), loadWorkflows(),
                        loadDeliveries(), loadExecutions()]);
}

function start() {
    say('Connecting…');
    api('GET', accountPath('')).then(function (r) {
        if (r.status !== 200) {
            throw new Error('The key was refused: HTTP ' + r.status);
        }
        $('main').hidden = false;
        say('Connected to account ' + (r.body.name || state.account) + '.');
        clearInterval(state.timer);
        state.timer = setInterval(refresh, 3000);
        return refresh();
    }).then(drawChart).catch(function (e) { say(e.message); });
}

$('key-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    state.account = $('account').value.trim();
    state.key = $('key').value.trim();
    sessionStorage.setItem('collab.account', state.account);
    sessionStorage.setItem('collab.key', state.key);
    start();
});

$('forget').addEventListener('click', function () {
    sessionStorage.removeItem('collab.account');
    sessionStorage.removeItem('collab.key');
    state.key = '';
    closePresence();
    closeTail();
    clearInterval(state.timer);
    $('key').value = '';
    $('main').hidden = true;
    say('The key is forgotten.');
});

$('recover').addEventListener('click', recover);

$('account').value = state.account;
if (state.account && state.key) {
    $('key').value = state.key;
    start();
}
