// Webhook receiver for t/120-webhooks-express.t: the Express handler of the
// product document (docs: "Verify Webhook Signatures"), run as given, so
// that the test proves that its verifier accepts what the module sends.
//
//     node t/express/receiver.js PORT [SECONDS]
//
// Listens on 127.0.0.1:PORT, prints "listening" once ready and exits by
// itself after SECONDS (default 30), so that no receiver outlives a test
// run.  Express comes from COLLAB_EXPRESS_DIR (default: build/express of
// this tree), where util/deps.sh installs this folder's package-lock.json.
//
//     POST /secrets {"secret":"whsec_..."}  registers a webhook secret
//     POST /collab-webhook                  the document's handler
//     GET  /log[?count=N][&sorted=1]        every delivery so far, as
//                                           [{event, verified, status}];
//                                           with count, waits (at most 10 s)
//                                           until N deliveries were answered;
//                                           sorted by event name with sorted
//                                           (deliveries in flight together
//                                           may arrive in any order)
//
// Departures from the document: express is loaded from the build folder
// (above), and where its handler checks one constant WEBHOOK_SECRET, here
// a delivery is accepted if it verifies with any registered secret (a test
// registers the secret of its webhook, and after a rotation the new one as
// well).

import { createHmac, timingSafeEqual } from 'crypto';
import { createRequire } from 'module';
import { fileURLToPath } from 'url';

const expressDir = process.env.COLLAB_EXPRESS_DIR
  || fileURLToPath(new URL('../../build/express', import.meta.url));
const express = createRequire(expressDir + '/package.json')('express');

const port = Number(process.argv[2]);
const lifetime = Number(process.argv[3] || 30);

if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node receiver.js PORT [SECONDS]');
  process.exit(2);
}

const secrets = [];
const log = [];

// ---- from the product document, as given -------------------------------

function verifyWebhookSignature(body, signature, secret) {
  const expected = createHmac('sha256', secret)
    .update(body)
    .digest('hex');

  return timingSafeEqual(
    Buffer.from(expected),
    Buffer.from(signature)
  );
}

// -------------------------------------------------------------------------

const app = express();

app.use(express.json());

app.post('/secrets', (req, res) => {
  const secret = req.body && req.body.secret;

  if (typeof secret !== 'string' || secret === '') {
    return res.status(400).json({ error: 'secret: must be a string' });
  }

  secrets.push(secret);
  res.status(201).json({ secrets: secrets.length });
});

app.post('/collab-webhook', (req, res) => {
  // the record of this delivery; its status is the answer actually sent,
  // whatever the handler below does (an exception ends in a 500)
  const entry = {
    event: req.body && req.body.event,
    verified: false,
    status: null
  };
  log.push(entry);
  res.on('finish', () => {
    entry.status = res.statusCode;
  });

  // ---- the document's handler, with the list of secrets ----------------

  const signature = req.headers['x-webhook-signature'];
  const body = JSON.stringify(req.body);

  // accepted if it verifies with any registered secret (see the top)
  entry.verified = secrets.some(
    (secret) => verifyWebhookSignature(body, signature, secret)
  );

  if (!entry.verified) {
    return res.status(401).send('Invalid signature');
  }

  // Process the event
  const { event, data } = req.body;
  switch (event) {
    case 'participant.joined':
      console.log(`User ${data.userId} joined room ${data.roomId}`);
      break;
    case 'session.closed':
      console.log(`Session ended in room ${data.roomId}`);
      break;
  }

  res.status(200).send('OK');
});

app.get('/log', (req, res) => {
  const want = Number(req.query.count || 0);
  const until = Date.now() + 10000;

  const answer = () => {
    const done = log.length >= want
                 && log.every((entry) => entry.status !== null);

    if (done || Date.now() >= until) {
      return res.status(200).json(req.query.sorted
        ? [...log].sort((a, b) => a.event.localeCompare(b.event))
        : log);
    }

    setTimeout(answer, 50);
  };

  answer();
});

app.listen(port, '127.0.0.1', () => {
  console.log('listening');
});

setTimeout(() => process.exit(0), lifetime * 1000);
