// An outside judge of what awsrole hands out, as a Java program sees it: the AWS SDK for
// Java 2.x's default credentials provider chain (system properties, environment, web
// identity, the shared profile with credential_process / IAM Identity Center, the
// container endpoint, ...), then STS GetCallerIdentity against the given endpoint.
//
//   java -jar judge.jar identity STS_URL       prints the caller's ARN; the provider on stderr
//   java -jar judge.jar loop STS_URL SECONDS   GetCallerIdentity every 300 ms; prints
//                                              "keys=N failures=M arns=A,B source=S"
//
// Any error: "java: ..." on stderr and exit 1.
package judge;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.useragent.BusinessMetricFeatureId;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.sts.StsClient;

public final class Judge {
    private Judge() {}

    private static void fail(String message) {
        System.err.println("java: " + message);
        System.exit(1);
    }

    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (text.length() > 0) {
                text.append(": caused by ");
            }
            text.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
        }
        return text.toString();
    }

    /** The region the default chain finds; GetCallerIdentity needs one to sign for. */
    private static Region region() {
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (RuntimeException e) {
            return Region.US_EAST_1;
        }
    }

    /**
     * Where the credentials came from: the SDK names its providers by their business
     * metric codes ("v,w" for a profile's credential_process); spelled out here.
     */
    private static String source(AwsCredentials credentials) {
        List<String> names = new ArrayList<>();
        for (String code : credentials.providerName().orElse("unknown").split(",")) {
            String name = code;
            for (BusinessMetricFeatureId id : BusinessMetricFeatureId.values()) {
                if (id.value().equals(code)) {
                    name = id.name();
                }
            }
            names.add(name);
        }
        return String.join(",", names);
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            fail("usage: judge identity STS_URL | judge loop STS_URL SECONDS");
        }
        try (DefaultCredentialsProvider provider = DefaultCredentialsProvider.builder().build();
             StsClient sts = StsClient.builder()
                     .endpointOverride(URI.create(args[1]))
                     .region(region())
                     .credentialsProvider(provider)
                     .build()) {
            switch (args[0]) {
                case "identity": {
                    String arn;
                    try {
                        arn = sts.getCallerIdentity().arn();
                    } catch (RuntimeException e) {
                        fail("GetCallerIdentity: " + describe(e));
                        return;
                    }
                    System.out.println(arn);
                    System.err.println("java: credentials from " + source(provider.resolveCredentials()));
                    break;
                }
                case "loop": {
                    if (args.length < 3) {
                        fail("usage: judge loop STS_URL SECONDS");
                    }
                    long end = System.currentTimeMillis() + (long) (Double.parseDouble(args[2]) * 1000);
                    List<String> keys = new ArrayList<>();
                    TreeSet<String> arns = new TreeSet<>();
                    int failures = 0;
                    String source = "";
                    while (System.currentTimeMillis() < end) {
                        try {
                            arns.add(sts.getCallerIdentity().arn());
                            AwsCredentials credentials = provider.resolveCredentials();
                            source = source(credentials);
                            String key = credentials.accessKeyId();
                            if (keys.isEmpty() || !keys.get(keys.size() - 1).equals(key)) {
                                keys.add(key);
                            }
                        } catch (RuntimeException e) {
                            failures++;
                            System.err.println("java: failure: " + describe(e));
                        }
                        Thread.sleep(300);
                    }
                    System.out.println("keys=" + keys.size() + " failures=" + failures
                            + " arns=" + String.join(",", arns) + " source=" + source);
                    break;
                }
                default:
                    fail("unknown mode " + args[0]);
            }
        } catch (InterruptedException e) {
            fail("interrupted");
        } catch (RuntimeException e) {
            fail(describe(e));
        }
    }
}
