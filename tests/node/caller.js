// GetCallerIdentity through aws-sdk-js-v3's default credential chain, as CDK, Serverless
// and SST do: prints the caller's ARN, or the error and exit 1.
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

new STSClient({})
  .send(new GetCallerIdentityCommand({}))
  .then((out) => console.log(out.Arn))
  .catch((err) => {
    console.error(`node: ${err.name}: ${err.message}`);
    process.exit(1);
  });
