//! The proof of possession a sign-in request carries (DPoP, RFC 9449): a JWT signed with
//! ES256 by the session's P-256 key, naming the method, the exact URL, the time and a
//! fresh id. The refresh token is bound to the key (its RFC 7638 thumbprint), so the
//! key is as secret as the token and never leaves memory but for the token's own home.

use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::DecodePrivateKey;
use p256::SecretKey;

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The session's key.
pub struct Key(SecretKey);

impl std::fmt::Debug for Key {
    // Never print a secret, not even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// `dpopKey` of a token file: SEC1 (`BEGIN EC PRIVATE KEY`, what `aws login`
    /// writes) or PKCS#8 (`BEGIN PRIVATE KEY`, AWS's cross-SDK fixtures). Other blocks
    /// (`EC PARAMETERS`) are skipped. The error never quotes the key.
    pub fn from_pem(pem: &str) -> Result<Key, String> {
        let mut label = None;
        let mut body = String::new();
        for line in pem.lines().map(str::trim) {
            if let Some(l) = line
                .strip_prefix("-----BEGIN ")
                .and_then(|l| l.strip_suffix("-----"))
            {
                label = Some(l.to_string());
                body.clear();
            } else if line.starts_with("-----END ") {
                if matches!(label.as_deref(), Some("EC PRIVATE KEY" | "PRIVATE KEY")) {
                    break;
                }
                label = None;
            } else if label.is_some() {
                body.push_str(line);
            }
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| "its dpopKey is not PEM".to_string())?;
        let key = match label.as_deref() {
            Some("EC PRIVATE KEY") => SecretKey::from_sec1_der(&der).ok(),
            Some("PRIVATE KEY") => SecretKey::from_pkcs8_der(&der).ok(),
            _ => return Err("its dpopKey has no EC PRIVATE KEY or PRIVATE KEY block".into()),
        };
        key.map(Key)
            .ok_or_else(|| "its dpopKey is not a P-256 private key".into())
    }

    /// A new key for a new session.
    pub fn generate() -> Result<Key, String> {
        loop {
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|e| format!("no randomness for a key: {e}"))?;
            // Out of range (about 2^-32 of draws): draw again.
            if let Ok(key) = SecretKey::from_slice(&raw) {
                return Ok(Key(key));
            }
        }
    }

    /// As `aws login` writes it: SEC1 with the curve named (prime256v1) and the public
    /// key. awscrt, which the AWS CLI v2 signs its refreshes with, refuses a SEC1 key
    /// without the curve.
    pub fn to_sec1_pem(&self) -> Result<String, String> {
        use p256::pkcs8::der::{pem::LineEnding, Encode};
        use p256::pkcs8::AssociatedOid;
        let private = zeroize::Zeroizing::new(self.0.to_bytes());
        let public = self.0.public_key().to_encoded_point(false);
        let der = zeroize::Zeroizing::new(
            sec1::EcPrivateKey {
                private_key: &private,
                parameters: Some(sec1::EcParameters::NamedCurve(p256::NistP256::OID)),
                public_key: Some(public.as_bytes()),
            }
            .to_der()
            .map_err(|e| format!("cannot encode the key ({e})"))?,
        );
        p256::pkcs8::der::pem::encode_string("EC PRIVATE KEY", LineEnding::LF, &der)
            .map_err(|e| format!("cannot encode the key ({e})"))
    }

    fn jwk(&self) -> (String, String) {
        let point = self.0.public_key().to_encoded_point(false);
        (
            b64url(point.x().expect("an uncompressed point has x")),
            b64url(point.y().expect("an uncompressed point has y")),
        )
    }

    /// The proof for one `POST` to `url` at `iat` (Unix seconds) with the id `jti`.
    pub fn proof(&self, url: &str, iat: i64, jti: &str) -> String {
        let (x, y) = self.jwk();
        let header = serde_json::json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": {"kty": "EC", "x": x, "y": y, "crv": "P-256"},
        });
        let payload = serde_json::json!({"htm": "POST", "htu": url, "iat": iat, "jti": jti});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload.to_string().as_bytes())
        );
        // ES256: ECDSA over SHA-256 of the input, the signature as raw r‖s (64 bytes).
        let signature: Signature = SigningKey::from(&self.0).sign(input.as_bytes());
        format!("{input}.{}", b64url(&signature.to_bytes()))
    }

    /// RFC 7638: base64url(SHA-256 of the canonical JWK), what a token is bound to
    /// (the sign-in service computes it; the tests check a reloaded key keeps it).
    #[cfg(test)]
    pub fn thumbprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let (x, y) = self.jwk();
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        b64url(&Sha256::digest(canonical.as_bytes()))
    }
}

/// A fresh random id (a version 4 UUID) for `jti` and `state`.
pub fn uuid4() -> Result<String, String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| format!("no randomness: {e}"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::sys::envdiff::to_hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;
    use p256::pkcs8::EncodePrivateKey;

    #[test]
    fn a_proof_verifies_with_the_key_in_its_header_and_names_the_request() {
        let key = Key::generate().unwrap();
        let proof = key.proof(
            "https://eu-west-1.signin.aws.amazon.com/v1/token",
            1700000000,
            "j-1",
        );
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |p: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap()
        };
        let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        let payload: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["crv"], "P-256");
        assert_eq!(payload["htm"], "POST");
        assert_eq!(
            payload["htu"],
            "https://eu-west-1.signin.aws.amazon.com/v1/token"
        );
        assert_eq!(payload["iat"], 1700000000);
        assert_eq!(payload["jti"], "j-1");
        let raw = decode(parts[2]);
        assert_eq!(raw.len(), 64, "raw r||s, not DER");
        let mut point = vec![4u8];
        point.extend(decode(header["jwk"]["x"].as_str().unwrap()));
        point.extend(decode(header["jwk"]["y"].as_str().unwrap()));
        let verifying = VerifyingKey::from_sec1_bytes(&point).unwrap();
        let signature = Signature::from_slice(&raw).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(verifying.verify(input.as_bytes(), &signature).is_ok());
        assert!(verifying.verify(b"other", &signature).is_err());
    }

    #[test]
    fn sec1_and_pkcs8_pem_read_as_the_same_key() {
        let key = Key::generate().unwrap();
        let sec1 = key.to_sec1_pem().unwrap();
        assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        let pkcs8 = key
            .0
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string();
        assert!(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
        let with_params = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{sec1}"
        );
        for pem in [&sec1, &pkcs8, &with_params] {
            assert_eq!(Key::from_pem(pem).unwrap().thumbprint(), key.thumbprint());
        }
        for bad in [
            "",
            "-----BEGIN EC PRIVATE KEY-----\nnot base64!\n-----END EC PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ] {
            let err = Key::from_pem(bad).unwrap_err();
            assert!(err.contains("dpopKey"), "{err}");
        }
        assert!(!format!("{key:?}").contains(&sec1[40..60]));
    }

    /// What awscrt (the AWS CLI v2, botocore with the CRT) needs of a SEC1 key: the
    /// curve named in it, as `aws login` writes it (tests/login.rs has botocore load one).
    #[test]
    fn the_sec1_key_names_its_curve_and_carries_its_public_key() {
        use p256::pkcs8::der::Decode;
        use p256::pkcs8::AssociatedOid;
        let key = Key::generate().unwrap();
        let pem = key.to_sec1_pem().unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let parsed = sec1::EcPrivateKey::from_der(&der).unwrap();
        assert_eq!(
            parsed.parameters,
            Some(sec1::EcParameters::NamedCurve(p256::NistP256::OID))
        );
        assert_eq!(
            parsed.public_key,
            Some(key.0.public_key().to_encoded_point(false).as_bytes())
        );
        // 121 bytes, as the AWS CLI's own keys are.
        assert_eq!(der.len(), 121);
    }

    #[test]
    fn ids_are_version_4_uuids_and_differ() {
        let (a, b) = (uuid4().unwrap(), uuid4().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]));
    }
}
