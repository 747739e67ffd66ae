// Verifies webhook deliveries with the Standard Webhooks reference library
// (npm standardwebhooks): reads a JSON array of {secret, headers, body}
// on stdin, prints a JSON array of true/false (verified or not).
'use strict';
const { Webhook } = require('standardwebhooks');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(({ secret, headers, body }) => {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch (e) {
      return false;
    }
  });
  process.stdout.write(JSON.stringify(out));
});
