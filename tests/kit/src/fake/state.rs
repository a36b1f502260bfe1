//! The run ledger's object ([`StateStore`]), with S3's conditional writes: a write over another
//! version than the one named, or a create where one exists, is refused (`Ok(None)`).

use rootsweep::ports::{Call as PortCall, StateStore, Stored};

use super::{FakeAws, World};

impl StateStore for FakeAws {
    fn load(&self) -> PortCall<'_, Option<Stored>> {
        self.port_call("s3:GetObject", |w| Ok(w.state.clone()))
    }

    fn store<'a>(
        &'a self,
        body: Vec<u8>,
        version: Option<&'a str>,
    ) -> PortCall<'a, Option<String>> {
        self.port_call("s3:PutObject", move |w| {
            if w.state.as_ref().map(|s| s.version.as_str()) != version {
                return Ok(None);
            }
            Ok(Some(w.write_state(body)))
        })
    }
}

impl World {
    /// Writes the ledger's object as another run would: a new version.
    pub fn write_state(&mut self, body: Vec<u8>) -> String {
        self.state_writes += 1;
        let version = format!("\"v{}\"", self.state_writes);
        self.state = Some(Stored {
            body,
            version: version.clone(),
        });
        version
    }
}
