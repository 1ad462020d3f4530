//! Syncing an external (OAuth/OIDC) sign-in into Django's users: find or create the user, link
//! the account, issue a pair; and the rules for the users it creates.

use std::net::IpAddr;

use super::{FlowError, Flows, TokenPair};
use crate::audit::{self, Event, Subject};
use crate::model::{ExternalAccount, NewUser, SyncOutcome, User};

/// A sign-in linked to an active user, with a pair for them.
#[derive(Debug)]
pub struct Synced {
    pub user: User,
    /// The user was created by this sync.
    pub created: bool,
    pub pair: TokenPair,
}

impl Flows<'_> {
    /// Find or create the Django user for `account` (`username_field` is Django's
    /// `USERNAME_FIELD`, for the user it may create), then issue a pair for them.
    pub async fn sync_account(
        &self,
        account: &ExternalAccount,
        username_field: &str,
        client: IpAddr,
    ) -> Result<Synced, FlowError> {
        let unusable = django_hashers::make_unusable_password(&mut self.random.rng());
        let template = new_user(account, username_field, unusable);
        let now = self.clock.now();
        let refused = |reason: &'static str, user_id: Option<i64>| {
            audit::record(
                Event::SyncRefused,
                Subject {
                    user_id,
                    client: Some(client),
                    reason: Some(reason),
                    ..Subject::default()
                },
            );
        };
        let (user, created) = match self.store.sync_account(account, &template, now).await? {
            SyncOutcome::Existing(u) | SyncOutcome::LinkedByEmail(u) => (u, false),
            SyncOutcome::Created(u) => (u, true),
            SyncOutcome::EmailNotVerified => {
                refused("email_not_verified", None);
                return Err(FlowError::EmailNotVerified);
            }
            SyncOutcome::EmailLinkingRefused => {
                refused("email_linking_refused", None);
                return Err(FlowError::EmailLinkingRefused);
            }
            SyncOutcome::Inactive(u) => {
                refused("inactive", Some(u.id));
                return Err(FlowError::UserInactive);
            }
        };
        audit::record(
            Event::Sync,
            Subject {
                username: Some(&user.username),
                user_id: Some(user.id),
                client: Some(client),
                reason: Some(if created { "created" } else { "linked" }),
            },
        );
        let pair = self.issue_pair(&user, None).await?;
        Ok(Synced {
            user,
            created,
            pair,
        })
    }
}

/// Django's `username` column is `varchar(150)` validated by `UnicodeUsernameValidator`
/// (`[\w.@+-]+`). Room is left for the numeric suffix the store adds on collisions.
const USERNAME_MAX: usize = 150 - 6;

/// A username base from the email's local part, else the name, else provider + account id;
/// characters Django's validator refuses are dropped.
pub fn username_base(account: &ExternalAccount) -> String {
    let candidates = [
        account
            .email
            .as_deref()
            .and_then(|e| e.split('@').next())
            .map(str::to_string),
        account.name.clone(),
        Some(format!(
            "{}_{}",
            account.provider, account.provider_account_id
        )),
    ];
    for candidate in candidates.into_iter().flatten() {
        let cleaned: String = candidate
            .chars()
            .map(|c| if c.is_whitespace() { '_' } else { c })
            .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '+' | '-'))
            .take(USERNAME_MAX)
            .collect();
        if !cleaned.is_empty() {
            return cleaned;
        }
    }
    "user".into()
}

/// The user to create for an account: names split like Django's admin would show them, an
/// unusable password (`!` + 40 chars) since the person signs in through the provider.
pub fn new_user(
    account: &ExternalAccount,
    username_field: &str,
    unusable_password: String,
) -> NewUser {
    let (first, last) = match account.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => match name.split_once(' ') {
            Some((f, l)) => (f.to_string(), l.trim().to_string()),
            None => (name.to_string(), String::new()),
        },
        _ => (String::new(), String::new()),
    };
    let email = account.email.clone().unwrap_or_default();
    let username = if username_field == "email" && !email.is_empty() {
        email.clone()
    } else {
        username_base(account)
    };
    NewUser {
        username,
        password: unusable_password,
        email,
        first_name: first.chars().take(150).collect(),
        last_name: last.chars().take(150).collect(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(email: Option<&str>, name: Option<&str>) -> ExternalAccount {
        ExternalAccount {
            provider: "github".into(),
            provider_account_id: "4242".into(),
            email: email.map(Into::into),
            email_verified: true,
            name: name.map(Into::into),
            image: None,
            email_linking: false,
        }
    }

    #[test]
    fn usernames_are_valid_for_django() {
        assert_eq!(
            username_base(&account(Some("ada.lovelace@example.com"), None)),
            "ada.lovelace"
        );
        assert_eq!(
            username_base(&account(None, Some("Ada Lovelace"))),
            "Ada_Lovelace"
        );
        assert_eq!(username_base(&account(Some("!!!@x"), Some("  "))), "__");
        assert_eq!(username_base(&account(None, None)), "github_4242");
        assert_eq!(
            username_base(&account(Some(&format!("{}@x", "a".repeat(300))), None)).len(),
            USERNAME_MAX
        );
        assert_eq!(username_base(&account(Some("émile@x"), None)), "émile");
    }

    #[test]
    fn names_split() {
        let u = new_user(
            &account(Some("a@x.org"), Some("Ada King Lovelace")),
            "username",
            "!x".into(),
        );
        assert_eq!(
            (u.first_name.as_str(), u.last_name.as_str()),
            ("Ada", "King Lovelace")
        );
        let u = new_user(&account(Some("a@x.org"), None), "email", "!x".into());
        assert_eq!(u.username, "a@x.org");
    }
}
