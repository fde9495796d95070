// An outside judge of what awsrole hands out, as a Go program sees it: the AWS SDK for
// Go v2's default configuration (config.LoadDefaultConfig: environment, shared config
// and credentials files, credential_process, the container endpoint, IAM Identity
// Center's token cache), then STS GetCallerIdentity against the given endpoint.
//
//	judge identity STS_URL          prints the caller's ARN; the credential source on stderr
//	judge loop STS_URL SECONDS      GetCallerIdentity every 300 ms; prints
//	                                "keys=N failures=M arns=A,B source=S"
//
// Any error: "go: ..." on stderr and exit 1.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: judge identity STS_URL | judge loop STS_URL SECONDS")
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fail("loading the default configuration: %v", err)
	}
	// GetCallerIdentity needs some region to sign for; the credentials do not.
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := os.Args[2]
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })

	switch os.Args[1] {
	case "identity":
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			fail("GetCallerIdentity: %v", err)
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			fail("credentials: %v", err)
		}
		fmt.Println(aws.ToString(out.Arn))
		fmt.Fprintf(os.Stderr, "go: credentials from %s\n", creds.Source)
	case "loop":
		if len(os.Args) < 4 {
			fail("usage: judge loop STS_URL SECONDS")
		}
		seconds, err := strconv.ParseFloat(os.Args[3], 64)
		if err != nil {
			fail("SECONDS: %v", err)
		}
		var keys []string
		arns := map[string]bool{}
		failures, source := 0, ""
		end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
		for time.Now().Before(end) {
			out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				failures++
				fmt.Fprintf(os.Stderr, "go: failure: %v\n", err)
			} else {
				arns[aws.ToString(out.Arn)] = true
				creds, err := cfg.Credentials.Retrieve(ctx)
				if err != nil {
					failures++
					fmt.Fprintf(os.Stderr, "go: failure: credentials: %v\n", err)
				} else {
					source = creds.Source
					if len(keys) == 0 || keys[len(keys)-1] != creds.AccessKeyID {
						keys = append(keys, creds.AccessKeyID)
					}
				}
			}
			time.Sleep(300 * time.Millisecond)
		}
		seen := make([]string, 0, len(arns))
		for a := range arns {
			seen = append(seen, a)
		}
		sort.Strings(seen)
		fmt.Printf("keys=%d failures=%d arns=%s source=%s\n", len(keys), failures, strings.Join(seen, ","), source)
	default:
		fail("unknown mode %q", os.Args[1])
	}
}
