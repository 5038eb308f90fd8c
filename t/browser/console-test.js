/*
 * The console in a headless Chromium (util/test-browser.sh runs this):
 * the page loads with no request beyond its own server and no CSP
 * violation, the key is entered, a user that joins appears live, a
 * failing delivery is red and turns green after "Retry", an execution of
 * a workflow (run by the real collab-runner) appears in the live tail
 * with its status, logs and result, a failing one with its error, the
 * tail goes on after a reload of nginx, and a screenshot is taken.
 * Buttons are pressed from the keyboard.
 */
'use strict';

const http = require('http');
const assert = require('assert');
const puppeteer = require('puppeteer-core');

const base = process.env.COLLAB_URL;
const admin = process.env.COLLAB_ADMIN_TOKEN;
let step = 0;

function ok(what) {
    step++;
    console.log('ok ' + step + ' - ' + what);
}

async function api(token, method, path, body) {
    const res = await fetch(base + '/v1' + path, {
        method,
        headers: Object.assign({ Authorization: 'Bearer ' + token },
                               body ? { 'Content-Type': 'application/json' } : {}),
        body: body ? JSON.stringify(body) : undefined
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
}

/* the webhook receiver: 500 to the first delivery, 200 afterwards */
function receiver() {
    let seen = 0;
    const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
            seen++;
            res.writeHead(seen === 1 ? 500 : 200, { 'Content-Type': 'text/plain' });
            res.end(seen === 1 ? 'not yet' : 'thanks');
        });
    });
    return new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => resolve(server));
    });
}

/* a client token's stream, held open until closed */
function join(path, token) {
    return new Promise((resolve, reject) => {
        const req = http.get(base + '/v1' + path + '/connect?token='
                             + encodeURIComponent(token), (res) => {
            if (res.statusCode !== 200) {
                reject(new Error('connect: HTTP ' + res.statusCode));
                return;
            }
            res.on('data', () => {});
            resolve(req);
        });
        req.on('error', reject);
    });
}

async function main() {
    const hooks = await receiver();

    let r = await api(admin, 'POST', '/accounts', { name: 'Console test' });
    assert.strictEqual(r.status, 201);
    const account = r.body.id;
    r = await api(admin, 'POST', '/accounts/' + account + '/keys', { name: 'console' });
    assert.strictEqual(r.status, 201);
    const key = r.body.token;
    const acc = '/accounts/' + account;

    r = await api(key, 'POST', acc + '/rooms', { name: 'lobby' });
    assert.strictEqual(r.status, 201);
    const room = r.body.id;

    r = await api(key, 'POST', acc + '/webhooks', {
        url: 'http://127.0.0.1:' + hooks.address().port + '/hook',
        events: ['*'], description: 'the test receiver'
    });
    assert.strictEqual(r.status, 201);
    const webhook = r.body.id;
    r = await api(key, 'POST', acc + '/webhooks/' + webhook + '/test');
    assert.strictEqual(r.status, 202);
    const delivery = r.body.id;

    r = await api(key, 'POST', acc + '/workflows', {
        name: 'Greeter', events: ['user.created'],
        code: 'export default async function (event, { room }) {\n'
              + '  const r = await room.get();\n'
              + '  console.log(`Hello, ${event.data.userId}, in ${r.name}`);\n'
              + '  return { greeted: event.data.userId };\n'
              + '}\n'
    });
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    const greeter = r.body.id;
    r = await api(key, 'POST', acc + '/workflows', {
        name: 'Grumbler', events: ['user.created'],
        code: 'export default function (event) {\n'
              + '  console.warn("about to fail");\n'
              + '  throw new Error("no greeting for " + event.data.userId);\n'
              + '}\n'
    });
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    const grumbler = r.body.id;
    ok('account, key, room, webhook, a test delivery and two workflows made');

    const browser = await puppeteer.launch({
        executablePath: process.env.CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-dev-shm-usage']
    });
    const problems = [];
    let stream = null;

    try {
        const page = await browser.newPage();
        await page.setViewport({ width: 1280, height: 900 });
        page.on('request', (req) => {
            if (!req.url().startsWith(base + '/') && !req.url().startsWith('data:')) {
                problems.push('a request elsewhere: ' + req.url());
            }
        });
        page.on('console', (m) => {
            if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) {
                problems.push('console error: ' + m.text());
            }
        });
        page.on('pageerror', (e) => problems.push('page error: ' + e.message));

        const res = await page.goto(base + '/console/', { waitUntil: 'load' });
        assert.strictEqual(res.status(), 200);
        assert.match(res.headers()['content-security-policy'], /default-src 'self'/);
        ok('the page loads with its CSP');

        await page.type('#account', account);
        await page.type('#key', key);
        await page.keyboard.press('Enter');
        await page.waitForSelector('#rooms button[data-room="' + room + '"]');
        const stored = await page.evaluate(() => sessionStorage.getItem('collab.key'));
        assert.strictEqual(stored, key);
        ok('the key is taken and kept in sessionStorage; the room is listed');

        await page.click('#rooms button[data-room="' + room + '"]');
        await page.waitForSelector('#presence li[data-user="collab-console"]');
        await page.waitForFunction(() =>
            document.getElementById('presence-mode').textContent === 'Live.');
        ok('the console is in the room, over the live stream');

        r = await api(key, 'POST', acc + '/rooms/' + room + '/users', { userId: 'alice' });
        assert.strictEqual(r.status, 201);
        r = await api(key, 'POST', acc + '/rooms/' + room + '/users/alice/tokens', {});
        assert.strictEqual(r.status, 201);
        stream = await join(acc + '/rooms/' + room, r.body.token);
        await page.waitForSelector('#presence li[data-user="alice"]', { timeout: 5000 });
        ok('a user that connects appears live');

        await page.click('#webhooks button[data-webhook="' + webhook + '"]');
        const row = 'tr[data-delivery="' + delivery + '"]';
        await page.waitForSelector(row + ' .status.failed', { timeout: 10000 });
        ok('the failed delivery is red');

        /* by keyboard: the button takes the focus, Enter presses it */
        await page.focus(row + ' button[aria-label^="Retry"]');
        await page.keyboard.press('Enter');
        await page.waitForSelector(row + ' .status.success', { timeout: 10000 });
        ok('after "Retry" it is green');

        await page.focus(row + ' button[aria-label^="Attempt log"]');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() =>
            /500/.test(document.getElementById('attempts').textContent)
            && /200/.test(document.getElementById('attempts').textContent),
            { timeout: 5000 }).catch(async (e) => {
                console.error(await page.$eval('#attempts', (p) => p.textContent));
                throw e;
            });
        ok('the attempt log shows both attempts');

        /* the workflows: open one by keyboard; the tail is live */
        const greeterButton = '#workflows button[data-workflow="' + greeter + '"]';
        await page.waitForSelector(greeterButton);
        await page.waitForSelector('#workflows button[data-workflow="' + grumbler + '"]');
        await page.focus(greeterButton);
        await page.keyboard.press('Enter');
        await page.waitForFunction(() =>
            document.getElementById('tail-mode').textContent === 'Live.'
            && !document.getElementById('flow-views').hidden);
        assert.strictEqual(await page.$eval(greeterButton,
                                            (b) => b.getAttribute('aria-current')),
                           'true');
        ok('a workflow opened from the keyboard; its tail is live');

        /* the lists are read again every few seconds, and the focus stays */
        await page.waitForResponse((res) => /\/workflows\?limit=/.test(res.url()));
        await page.waitForResponse((res) => /\/workflows\?limit=/.test(res.url()));
        assert.strictEqual(await page.evaluate(() =>
            document.activeElement && document.activeElement.getAttribute('data-workflow')),
            greeter);
        ok('the focused workflow keeps the focus while the lists refresh');

        const tailed = (status, texts) => page.waitForFunction((status, texts) => {
            const li = Array.from(document.querySelectorAll('#tail li[data-execution]'))
                .find((l) => l.getAttribute('data-status') === status
                             && texts.every((t) => l.textContent.includes(t)));
            return li ? li.getAttribute('data-execution') : null;
        }, { timeout: 30000 }, status, texts).then((h) => h.jsonValue())
            .catch(async (e) => {
                console.error(await page.$eval('#tail', (t) => t.textContent));
                throw e;
            });

        r = await api(key, 'POST', acc + '/rooms/' + room + '/users', { userId: 'bob' });
        assert.strictEqual(r.status, 201);
        const ran = await tailed('success', ['user.created', 'Hello, bob, in lobby',
                                             '"greeted": "bob"']);
        const entry = '#tail li[data-execution="' + ran + '"]';
        assert.strictEqual(await page.$eval(entry + ' .status',
                                            (e) => e.className + ' ' + e.textContent),
                           'status success success');
        assert.strictEqual(await page.$eval(entry + ' pre.logs',
                                            (e) => e.getAttribute('aria-label')),
                           'Logs of ' + ran);
        ok('a user created: the execution appears in the tail, green, with its log '
           + 'and result');

        /* in the list as well; Enter shows it with its payload */
        const listed = '#executions li[data-execution="' + ran + '"] button';
        await page.waitForSelector(listed);
        await page.focus(listed);
        await page.keyboard.press('Enter');
        await page.waitForFunction((id) => {
            const box = document.getElementById('execution');
            return box.getAttribute('data-execution') === id
                && /Hello, bob, in lobby/.test(box.textContent)
                && /"greeted": "bob"/.test(box.textContent)
                && /Payload: [^]*"userId": "bob"/.test(box.textContent);
        }, { timeout: 10000 }, ran);
        ok('the execution chosen in the list shows its logs, result and payload');

        /* the failing workflow: its error in red, in the tail */
        await page.focus('#workflows button[data-workflow="' + grumbler + '"]');
        await page.keyboard.press('Enter');
        await page.waitForFunction((name) =>
            document.getElementById('tail-mode').textContent === 'Live.'
            && document.getElementById('flow-name').textContent === 'of ' + name
            && !document.querySelector('#tail li[data-execution]'), {}, 'Grumbler');
        r = await api(key, 'POST', acc + '/rooms/' + room + '/users', { userId: 'carol' });
        assert.strictEqual(r.status, 201);
        const failed = await tailed('error', ['user.created', 'about to fail',
                                              'Error: no greeting for carol']);
        const bad = '#tail li[data-execution="' + failed + '"]';
        assert.strictEqual(await page.$eval(bad + ' .status', (e) => e.className),
                           'status failed');
        assert.strictEqual(await page.$(bad + ' pre.result'), null);
        ok('the failing workflow\'s execution appears in the tail, red, with its error');

        /* nginx reloads: the tail ends, and the console opens it again */
        const reopened = page.waitForRequest((req) => /\/tail$/.test(req.url()),
                                             { timeout: 30000 });
        process.kill(Number(process.env.COLLAB_NGINX_PID), 'SIGHUP');
        await reopened;
        await page.waitForFunction(() =>
            document.getElementById('tail-mode').textContent === 'Live.',
            { timeout: 30000 });
        r = await api(key, 'POST', acc + '/rooms/' + room + '/users', { userId: 'dave' });
        assert.strictEqual(r.status, 201);
        await tailed('error', ['Error: no greeting for dave']);
        ok('after a reload of nginx the tail is opened again and goes on');

        /* names for assistive technology: the tail is a labelled log */
        const tree = await page.accessibility.snapshot({
            root: await page.$('#tail'), interestingOnly: false });
        assert.strictEqual(tree.role, 'log');
        assert.strictEqual(tree.name, 'Live tail of Grumbler');
        const unnamed = await page.$$eval('main button, main input, main pre[tabindex]',
            (els) => els.filter((e) => !e.hidden && !(e.getAttribute('aria-label')
                                                      || e.textContent.trim()))
                        .map((e) => e.outerHTML));
        assert.deepStrictEqual(unnamed, []);
        ok('the tail is a log named after its workflow; every control has a name');

        await page.waitForSelector('#chart svg rect.deliveries');
        await page.screenshot({ path: process.env.COLLAB_SCREENSHOT, fullPage: true });
        ok('the chart is drawn; screenshot in ' + process.env.COLLAB_SCREENSHOT);

        assert.deepStrictEqual(problems, []);
        ok('no request beyond the server, no errors in the page');

    } finally {
        if (stream) {
            stream.destroy();
        }
        await browser.close();
        hooks.close();
    }

    console.log('1..' + step);
}

main().catch((e) => {
    console.error('not ok - ' + (e.stack || e));
    process.exit(1);
});
