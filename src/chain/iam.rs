//! The three IAM calls `awsrole rotate` makes — CreateAccessKey, DeleteAccessKey (the
//! Query API, SigV4-signed with `aws-sigv4`, which the STS client already builds on) —
//! over one small HTTPS client. The IAM SDK would bring a crate the size of IAM's whole
//! API for two calls.
//!
//! Endpoint: `AWS_ENDPOINT_URL_IAM`, else `AWS_ENDPOINT_URL`, else the partition's
//! global IAM endpoint. Answers are XML; only the fields used are read, and an error
//! quotes AWS's `Code` and `Message`, never the request.

use std::time::{Duration, SystemTime};

use crate::chain::credentials::Credentials;
use crate::error::{Error, Result};

pub struct Iam {
    endpoint: String,
    /// The region requests are signed for (IAM is global: us-east-1, cn-north-1 …).
    region: String,
}

/// A new access key.
pub struct NewKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub user: String,
}

impl Iam {
    /// The IAM endpoint of `region`'s partition, unless a variable names another.
    pub fn new(region: Option<&str>) -> Iam {
        let var = |k: &str| crate::sys::settings::var(k).ok().filter(|v| !v.is_empty());
        let region = region.unwrap_or("us-east-1");
        let (endpoint, signing) = if region.starts_with("cn-") {
            ("https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1")
        } else if region.starts_with("us-gov-") {
            ("https://iam.us-gov.amazonaws.com", "us-gov-west-1")
        } else {
            ("https://iam.amazonaws.com", "us-east-1")
        };
        Iam {
            endpoint: var("AWS_ENDPOINT_URL_IAM")
                .or_else(|| var("AWS_ENDPOINT_URL"))
                .unwrap_or_else(|| endpoint.to_string()),
            region: signing.to_string(),
        }
    }

    /// CreateAccessKey for the user whose keys sign it.
    pub fn create_access_key(&self, creds: &Credentials) -> Result<NewKey> {
        let body = self.call(creds, &[("Action", "CreateAccessKey")])?;
        let field = |name: &str| {
            xml_field(&body, name).ok_or_else(|| {
                Error::Sts(format!(
                    "IAM's CreateAccessKey answer from {} has no {name}",
                    self.endpoint
                ))
            })
        };
        Ok(NewKey {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: field("SecretAccessKey")?,
            user: field("UserName")?,
        })
    }

    /// DeleteAccessKey of the signing user's key `key_id`.
    pub fn delete_access_key(&self, creds: &Credentials, key_id: &str) -> Result<()> {
        self.call(
            creds,
            &[("Action", "DeleteAccessKey"), ("AccessKeyId", key_id)],
        )
        .map(|_| ())
    }

    fn call(&self, creds: &Credentials, params: &[(&str, &str)]) -> Result<String> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            form.append_pair(k, v);
        }
        form.append_pair("Version", "2010-05-08");
        let body = form.finish();
        let url = format!("{}/", self.endpoint.trim_end_matches('/'));
        let headers = self.sign(creds, &url, body.as_bytes())?;
        let action = params[0].1;
        let fail = |why: String| Error::Sts(format!("IAM {action} at {}: {why}", self.endpoint));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let (status, answer) = runtime
            .block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(20),
                    crate::sys::http::send("POST", &url, &headers, body.into_bytes()),
                )
                .await
            })
            .map_err(|_| fail("no answer within 20 s".into()))?
            .map_err(|e| fail(format!("could not be reached ({e})")))?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        if status != 200 {
            let code = xml_field(&text, "Code").unwrap_or_else(|| format!("HTTP {status}"));
            let message = xml_field(&text, "Message").unwrap_or_default();
            return Err(fail(format!("{code}: {message}")));
        }
        Ok(text)
    }

    /// The SigV4 headers for a form POST.
    fn sign(&self, creds: &Credentials, url: &str, body: &[u8]) -> Result<Vec<(String, String)>> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let identity = aws_credential_types::Credentials::new(
            &creds.access_key_id,
            &creds.secret_access_key,
            creds.session_token.clone(),
            None,
            "awsrole",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("iam")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::Sts(format!("cannot sign the IAM request: {e}")))?
            .into();
        let content_type = (
            "content-type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        );
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_string();
        let base = [content_type, ("host".to_string(), host)];
        let signable = SignableRequest::new(
            "POST",
            url,
            base.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|e| Error::Sts(format!("cannot sign the IAM request: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| Error::Sts(format!("cannot sign the IAM request: {e}")))?
            .into_parts();
        let (headers, _) = instructions.into_parts();
        let mut all: Vec<(String, String)> = base.to_vec();
        all.extend(
            headers
                .into_iter()
                .map(|h| (h.name().to_string(), h.value().to_string())),
        );
        Ok(all)
    }
}

/// The text of the first `<name>…</name>`.
fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_the_answer() {
        let xml = "<CreateAccessKeyResponse><CreateAccessKeyResult><AccessKey><UserName>u1</UserName><AccessKeyId>AKIANEW</AccessKeyId><Status>Active</Status><SecretAccessKey>s/+=</SecretAccessKey></AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>";
        assert_eq!(xml_field(xml, "AccessKeyId").as_deref(), Some("AKIANEW"));
        assert_eq!(xml_field(xml, "SecretAccessKey").as_deref(), Some("s/+="));
        assert_eq!(xml_field(xml, "Nope"), None);
    }

    #[test]
    fn each_partition_has_its_iam() {
        let cn = Iam::new(Some("cn-northwest-1"));
        assert_eq!(cn.region, "cn-north-1");
        let gov = Iam::new(Some("us-gov-east-1"));
        assert_eq!(gov.region, "us-gov-west-1");
    }
}
