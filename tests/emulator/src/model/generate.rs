//! A deterministic org for demos, benchmarks and tests: the same `(accounts, seed)` always gives
//! the same ids, names, OU tree and credentials, with ages relative to the moment of generation.
//!
//! # The generated org (`Org::generate(accounts, seed)`, `--accounts N --seed S`)
//!
//! Deterministic for a seed: ids, names, OUs and credential ages (ages count back from generation
//! time). At least 2 accounts. Assume a grace period of about 72 h.
//! - `management` (account 0): management account, root password and hardware MFA; no root task may touch it.
//! - `security` (account 1): in OU `Security`, clean, and the **caller** (`caller_account_id`), as a
//!   delegated administrator for root access would be.
//! - Every further account follows a repeating pattern of 23 scenarios, named `<scenario>-<index>`
//!   (e.g. `due-0004`): `scenarios.rs` says what each holds.
//! - OUs: `Security`, `Workloads` (with `Prod`, `Dev`), `Sandbox` (with `Legacy`); the other accounts
//!   spread over `Prod`, `Dev`, `Sandbox`, `Legacy` and the root.
//! - `Org::with_odd_dates()` turns three `clean` accounts into odd dates as IAM may report them:
//!   `odd-undated` (an access key without `CreateDate`), `odd-before-root` (a signing certificate
//!   uploaded before its root user was created), `odd-future` (a password created tomorrow).

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::scenarios::{MIX, Scenario, apply, days, hardware_mfa};
use super::time::now;
use crate::services::iam::{
    AccessKey, CredentialStatus, LoginProfile, RootUser, SigningCertificate,
};
use crate::services::organizations::{
    Account, AccountState, JoinedMethod, Org, OrganizationalUnit,
};

impl Org {
    /// A generated org in its steady state, as it is after the first sweeps: of `accounts`
    /// accounts (`seed`), `due` keep a password past its grace period and `in_grace` one still
    /// in it; the tag-exempt accounts keep their due passwords and the suspended and closing ones
    /// what they hold; every other member account is clean. Panics when the org has fewer `due`
    /// or `in-grace` accounts than asked for.
    pub fn steady_state(accounts: usize, seed: u64, due: usize, in_grace: usize) -> Org {
        let mut org = Self::generate(accounts, seed);
        let management = org.management_account().id.clone();
        let (mut due_left, mut in_grace_left) = (due, in_grace);
        for account in &mut org.accounts {
            let scenario = account.name.rsplit_once('-').map_or("", |(s, _)| s);
            let keep = match scenario {
                "due" if due_left > 0 => {
                    due_left -= 1;
                    true
                }
                "in-grace" if in_grace_left > 0 => {
                    in_grace_left -= 1;
                    true
                }
                "exempt" | "suspended" | "pending-closure" => true,
                _ => account.id == management,
            };
            if !keep {
                let created = account.root_user.created;
                account.root_user = RootUser {
                    created,
                    ..RootUser::default()
                };
            }
        }
        assert_eq!(
            (due_left, in_grace_left),
            (0, 0),
            "{accounts} accounts hold fewer due or in-grace ones than asked for"
        );
        org
    }

    /// Builds an organization of `accounts` accounts (at least 2), the same for the same seed.
    ///
    /// - Account 0, `management`: the management account; its root user has a password and a
    ///   hardware MFA device, which no root task may touch.
    /// - Account 1, `security`: in the `Security` OU, no root credentials; it is the caller
    ///   (`caller_account_id`), as a delegated administrator for root access would be.
    /// - Every other account follows a repeating pattern of 23 scenarios, named
    ///   `<scenario>-<index>` (for example `due-0004`): 6 `clean`, 2 `in-grace` (password
    ///   created 6-40 h ago: inside a ~72 h grace period), 2 `due` (password created 30-400 days
    ///   ago, used 5-90 days ago), and one each of `due-never-used`, `password-removed` (clean,
    ///   with an old `PasswordLastUsed`), `access-keys`, `signing-certificate`, `mfa-virtual`,
    ///   `mfa-hardware`, `everything` (password + key + MFA), `suspended`, `pending-closure`,
    ///   `exempt` (tagged `rootsweep:exempt=true`, in the nested OU `Sandbox/Legacy`), and
    ///   either side of a 72 h grace period: `grace-71h` and `due-73h` (a password created that
    ///   many hours ago, never used) and `recent-sign-in` (an old password used 2 hours ago).
    /// - OUs: `Security`, `Workloads` (with `Prod` and `Dev`), `Sandbox` (with `Legacy`);
    ///   the other accounts spread over them and the root.
    pub fn generate(accounts: usize, seed: u64) -> Org {
        let mut rng = StdRng::seed_from_u64(seed);
        let now = now();
        let organization_id = format!("o-{}", random_string(&mut rng, LOWER_ALNUM, 10));
        let r = &organization_id[2..6];
        let ou = |suffix: &str, name: &str, parent: Option<&str>| OrganizationalUnit {
            id: format!("ou-{r}-{suffix}"),
            name: name.to_owned(),
            parent: parent.map(|p| format!("ou-{r}-{p}")),
        };
        let organizational_units = vec![
            ou("security", "Security", None),
            ou("workload", "Workloads", None),
            ou("prod0001", "Prod", Some("workload")),
            ou("dev00001", "Dev", Some("workload")),
            ou("sandbox1", "Sandbox", None),
            ou("legacy01", "Legacy", Some("sandbox1")),
        ];
        let ou_id = |index: usize| organizational_units[index].id.clone();
        // Spread of ordinary accounts: mostly workloads, some at the root or in the nested OU.
        let homes = [Some(2), Some(2), Some(3), Some(3), Some(4), Some(5), None];

        let first_id = rng.random_range(100_000_000_000u64..200_000_000_000);
        let mut generated = Vec::with_capacity(accounts.max(2));
        for index in 0..accounts.max(2) {
            // A prime stride keeps ids unique and 12 digits for any realistic count.
            let id = (first_id + index as u64 * 1_000_003).to_string();
            // Older than every credential age below, so no credential predates its root user.
            let joined = now - days(rng.random_range(1000..1500));
            let mut account = Account {
                email: String::new(),
                name: String::new(),
                state: AccountState::Active,
                parent: None,
                tags: BTreeMap::new(),
                joined,
                joined_method: JoinedMethod::Created,
                root_user: RootUser {
                    created: joined,
                    ..RootUser::default()
                },
                id,
            };
            match index {
                0 => {
                    account.name = "management".to_owned();
                    let root = &mut account.root_user;
                    root.login_profile = Some(LoginProfile { created: joined });
                    root.password_last_used = Some(now - days(rng.random_range(1..30)));
                    root.mfa_devices.push(hardware_mfa(&mut rng, joined));
                }
                1 => {
                    account.name = "security".to_owned();
                    account.parent = Some(ou_id(0));
                }
                _ => {
                    let scenario = MIX[(index - 2) % MIX.len()];
                    account.name = format!("{}-{index:04}", scenario.name());
                    account.joined_method = JoinedMethod::Invited;
                    account.parent = homes[rng.random_range(0..homes.len())].map(ou_id);
                    apply(scenario, &mut account, &mut rng, now);
                    if scenario == Scenario::Exempt {
                        account.parent = Some(ou_id(5));
                    }
                }
            }
            account.email = format!("aws+{}@example.com", account.name);
            generated.push(account);
        }

        let org = Org {
            management_account_id: generated[0].id.clone(),
            caller_account_id: Some(generated[1].id.clone()),
            organization_id,
            enabled_features: vec![
                "RootCredentialsManagement".to_owned(),
                "RootSessions".to_owned(),
            ],
            preflight_failure: None,
            delete_virtual_mfa_allowed: false,
            organizational_units,
            accounts: generated,
            schedule_groups: Vec::new(),
            security_hub_enabled: true,
            buckets: Vec::new(),
        };
        debug_assert!(org.validate().is_ok(), "{:?}", org.validate());
        org
    }

    /// The same org with odd credential dates, as IAM may report them, on three of its `clean`
    /// accounts (renamed after their scenario, with the same index): `odd-undated` holds an
    /// access key without `CreateDate`, `odd-before-root` a signing certificate uploaded two
    /// years before its root user was created, `odd-future` a password created a day from now.
    /// The grace rule counts a missing date, or one before the root user, as now, and a future
    /// date as it is: each of them is in grace only because of its odd date (at face value, the
    /// certificate would be long due). Panics without three `clean` accounts.
    pub fn with_odd_dates(mut self) -> Org {
        let now = now();
        let mut clean = self
            .accounts
            .iter_mut()
            .filter(|a| a.name.starts_with("clean-"));
        let mut odd = |scenario: &str| {
            let account = clean.next().expect("three clean accounts");
            account.name = account.name.replacen("clean", scenario, 1);
            &mut account.root_user
        };
        odd("odd-undated").access_keys.push(AccessKey {
            id: "AKIAODDUNDATED000001".to_owned(),
            status: CredentialStatus::Active,
            created: None,
            last_used: None,
        });
        let root = odd("odd-before-root");
        root.signing_certificates.push(SigningCertificate {
            id: "ODDBEFOREROOT0000000000000000001".to_owned(),
            status: CredentialStatus::Active,
            uploaded: Some(root.created - days(730)),
        });
        odd("odd-future").login_profile = Some(LoginProfile {
            created: now + days(1),
        });
        self
    }
}

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

pub(crate) fn random_string(rng: &mut impl Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::services::iam::MfaKind;

    #[test]
    fn same_seed_same_org() {
        let (a, b) = (Org::generate(45, 7), Org::generate(45, 7));
        let ids = |org: &Org| {
            org.accounts
                .iter()
                .map(|a| a.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(a.organization_id, b.organization_id);
        assert_ne!(ids(&a), ids(&Org::generate(45, 8)));
        assert!(a.validate().is_ok());
    }

    #[test]
    fn the_mix_is_as_documented() {
        let org = Org::generate(25, 1);
        assert_eq!(org.accounts.len(), 25);
        assert_eq!(org.accounts[0].id, org.management_account_id);
        assert_eq!(org.caller_account_id(), org.accounts[1].id);
        // `due-0004`, not `due-73h-0005`: the scenario, then the index alone.
        let named = |scenario: &str| {
            org.accounts
                .iter()
                .filter(|a| {
                    a.name
                        .strip_prefix(&format!("{scenario}-"))
                        .is_some_and(|index| index.bytes().all(|b| b.is_ascii_digit()))
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(named("clean").len(), 6);
        assert!(named("clean").iter().all(|a| a.root_user.is_clean()));
        assert_eq!(named("in-grace").len(), 2);
        let now = now();
        for account in named("in-grace") {
            let created = account.root_user.login_profile.as_ref().unwrap().created;
            assert!(now - created < Duration::hours(72));
        }
        for account in named("due") {
            let created = account.root_user.login_profile.as_ref().unwrap().created;
            assert!(now - created > Duration::days(20));
        }
        assert_eq!(named("suspended")[0].state, AccountState::Suspended);
        assert_eq!(
            named("pending-closure")[0].state,
            AccountState::PendingClosure
        );
        let exempt = named("exempt")[0];
        assert_eq!(
            exempt.tags.get("rootsweep:exempt").map(String::as_str),
            Some("true")
        );
        let legacy = org
            .organizational_unit(exempt.parent.as_deref().unwrap())
            .unwrap();
        assert!(
            legacy.parent.is_some(),
            "the exempt account sits in a nested OU"
        );
        assert!(
            named("password-removed")[0]
                .root_user
                .password_last_used
                .is_some()
        );
        assert_eq!(
            named("mfa-hardware")[0].root_user.mfa_devices[0].kind,
            MfaKind::Hardware
        );
        assert_eq!(
            named("mfa-virtual")[0].root_user.mfa_devices[0].kind,
            MfaKind::Virtual
        );
        // Either side of a 72 h grace period.
        let age = |name: &str| {
            now - named(name)[0]
                .root_user
                .login_profile
                .as_ref()
                .unwrap()
                .created
        };
        assert!(age("grace-71h") < Duration::hours(72) && age("grace-71h") > Duration::hours(70));
        assert!(age("due-73h") > Duration::hours(72) && age("due-73h") < Duration::hours(74));
        let recent = &named("recent-sign-in")[0].root_user;
        assert!(now - recent.password_last_used.unwrap() < Duration::hours(3));
        assert!(age("recent-sign-in") > Duration::days(100));
    }

    #[test]
    fn no_credential_predates_its_root_user() {
        for account in Org::generate(60, 9).accounts {
            let root = &account.root_user;
            let dates = root
                .login_profile
                .iter()
                .map(|p| p.created)
                .chain(root.access_keys.iter().filter_map(|k| k.created))
                .chain(root.signing_certificates.iter().filter_map(|c| c.uploaded))
                .chain(root.mfa_devices.iter().map(|d| d.enabled))
                .chain(root.password_last_used);
            for date in dates {
                assert!(
                    date >= root.created,
                    "{}: {date} < {}",
                    account.name,
                    root.created
                );
            }
        }
    }

    #[test]
    fn odd_dates_are_given_to_three_clean_accounts() {
        let org = Org::generate(25, 1).with_odd_dates();
        assert!(org.validate().is_ok());
        let named = |prefix: &str| {
            org.accounts
                .iter()
                .find(|a| a.name.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} account"))
        };
        assert_eq!(named("odd-undated-").root_user.access_keys[0].created, None);
        let before = &named("odd-before-root-").root_user;
        assert!(before.signing_certificates[0].uploaded < Some(before.created));
        let future = &named("odd-future-").root_user;
        assert!(future.login_profile.as_ref().unwrap().created > now());
        let clean = org.accounts.iter().filter(|a| a.name.starts_with("clean-"));
        assert_eq!(clean.count(), 3);
    }

    #[test]
    fn tiny_orgs_still_have_management_and_caller() {
        let org = Org::generate(0, 3);
        assert_eq!(org.accounts.len(), 2);
        assert!(org.validate().is_ok());
    }
}
