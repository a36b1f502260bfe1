//! The archive's S3 bucket ([`Archive`]): objects by key, listed in key order.

use rootsweep::ports::{Archive, AwsErrorKind, Call as PortCall};

use super::FakeAws;
use super::faults::coded;

impl Archive for FakeAws {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> PortCall<'a, ()> {
        self.port_call("s3:PutObject", move |w| {
            w.objects.insert(key.to_owned(), body);
            Ok(())
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> PortCall<'a, Vec<String>> {
        self.port_call("s3:ListBucket", move |w| {
            Ok(w.objects
                .keys()
                .filter(|k| k.starts_with(prefix) && start_after.is_none_or(|s| k.as_str() > s))
                .cloned()
                .collect())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> PortCall<'a, Vec<u8>> {
        self.port_call("s3:GetObject", move |w| {
            w.objects
                .get(key)
                .cloned()
                .ok_or_else(|| coded("s3:GetObject", AwsErrorKind::NotFound, "NoSuchKey", key))
        })
    }
}
