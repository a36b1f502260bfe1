//! What Lambda holds: the run's functions, by name, with their environment variables, deployed
//! when the emulator starts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// "The total size of all environment variables doesn't exceed 4 KB" ("Working with Lambda
/// environment variables", Lambda Developer Guide): checked when a run declares a function.
const ENVIRONMENT_MAX_BYTES: usize = 4 * 1024;

/// The run's functions, by name, with their environment variables.
#[derive(Debug)]
pub(crate) struct Functions {
    /// When the emulator started: every function's `LastModified`.
    pub(super) deployed: DateTime<Utc>,
    pub(super) variables: BTreeMap<String, BTreeMap<String, String>>,
}

impl Functions {
    pub fn new(deployed: DateTime<Utc>) -> Self {
        Self {
            deployed,
            variables: BTreeMap::new(),
        }
    }

    /// Deploys the declared functions, refusing what Lambda would refuse to create: a name
    /// that is not 1-64 letters, digits, `-` or `_` (`CreateFunction`), a variable name not
    /// matching `[a-zA-Z]([a-zA-Z0-9_])+` (the model's `EnvironmentVariableName`), more than
    /// 4 KB of variables. Lambda's reserved keys (`AWS_REGION`, ...) are not checked.
    pub fn deploy(
        &mut self,
        functions: BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<(), String> {
        for (name, variables) in &functions {
            let name_ok = (1..=64).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !name_ok {
                return Err(format!(
                    "function name {name:?}: 1 to 64 letters, digits, '-' or '_'"
                ));
            }
            if let Some(key) = variables.keys().find(|key| !is_variable_name(key)) {
                return Err(format!(
                    "function {name}: environment variable name {key:?} must match [a-zA-Z]([a-zA-Z0-9_])+"
                ));
            }
            let size: usize = variables.iter().map(|(k, v)| k.len() + v.len()).sum();
            if size > ENVIRONMENT_MAX_BYTES {
                return Err(format!(
                    "function {name}: its environment variables take {size} bytes, Lambda allows 4 KB"
                ));
            }
        }
        self.variables = functions;
        Ok(())
    }
}

/// The model's `EnvironmentVariableName`: `[a-zA-Z]([a-zA-Z0-9_])+`.
fn is_variable_name(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
