// A long-running Node process using the SDK's default chain (the container provider
// under `awsrole exec --server`): every 300 ms for N seconds, GetCallerIdentity through
// one long-lived client (which keeps the keys it was first given until 5 minutes before
// their expiry) and through a new client (which fetches from the endpoint afresh, as a
// newly started tool would). Prints how many distinct keys the new clients were served
// and how many calls failed.
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

const [endpoint, seconds] = process.argv.slice(2);
const longLived = new STSClient({ endpoint });
const keys = [];
let failures = 0;
const end = Date.now() + Number(seconds) * 1000;

async function call(client) {
  try {
    await client.send(new GetCallerIdentityCommand({}));
    return await client.config.credentials();
  } catch (err) {
    failures += 1;
    console.error(`failure: ${err.name}: ${err.message}`);
    return null;
  }
}

(async () => {
  while (Date.now() < end) {
    await call(longLived);
    const creds = await call(new STSClient({ endpoint }));
    if (creds && keys[keys.length - 1] !== creds.accessKeyId) keys.push(creds.accessKeyId);
    await new Promise((r) => setTimeout(r, 300));
  }
  console.log(`keys=${keys.length} failures=${failures}`);
})();
