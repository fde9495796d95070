// A long-running Node process using the SDK's default chain (the container provider
// under `awsrole exec --server`): GetCallerIdentity every 300 ms for N seconds; prints
// how many distinct keys it saw and how many calls failed.
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

const [endpoint, seconds] = process.argv.slice(2);
const client = new STSClient({ endpoint });
const keys = [];
let failures = 0;
const end = Date.now() + Number(seconds) * 1000;

(async () => {
  while (Date.now() < end) {
    try {
      await client.send(new GetCallerIdentityCommand({}));
      const creds = await client.config.credentials();
      if (keys[keys.length - 1] !== creds.accessKeyId) keys.push(creds.accessKeyId);
    } catch (err) {
      failures += 1;
      console.error(`failure: ${err.name}: ${err.message}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  console.log(`keys=${keys.length} failures=${failures}`);
})();
