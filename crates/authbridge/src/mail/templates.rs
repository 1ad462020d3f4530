//! The account emails, rendered as allauth renders them (`DefaultAccountAdapter.render_mail`):
//! `account/email/<name>_subject.txt` on one line behind the `[<site name>] ` prefix (or
//! `ACCOUNT_EMAIL_SUBJECT_PREFIX`), `<name>_message.txt` stripped, and an optional
//! `<name>_message.html` as the HTML alternative.
//!
//! The defaults (`templates/account/email/` beside this file) give allauth 65's subjects and
//! plain-text bodies byte for byte, in minijinja's syntax with allauth's layout (`base_message.txt`
//! and `{% block content %}`), so a file of the same name in `AUTHBRIDGE_EMAIL_TEMPLATES_DIR`
//! replaces one piece and the others still apply. HTML templates are auto-escaped, text ones
//! are not (as allauth's `{% autoescape off %}`). Every template is loaded and rendered once with
//! a sample context by [`Templates::load`], so a broken override stops the server at start-up,
//! never a send.

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use super::message::{check_address, check_mailbox, one_line_subject};
use super::{MailError, OutgoingEmail};

/// The folder of the emails inside a templates directory, as allauth names it.
pub const FOLDER: &str = "account/email";
/// An override file larger than this is refused at start-up.
const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;
/// At most this many files are read from the override folder.
const MAX_TEMPLATE_FILES: usize = 64;
/// Bounds one render (minijinja's instruction budget): a template that loops forever fails.
const FUEL: u64 = 200_000;

const DEFAULTS: &[(&str, &str)] = &[
    (
        "base_message.txt",
        include_str!("templates/account/email/base_message.txt"),
    ),
    (
        "email_confirmation_subject.txt",
        include_str!("templates/account/email/email_confirmation_subject.txt"),
    ),
    (
        "email_confirmation_message.txt",
        include_str!("templates/account/email/email_confirmation_message.txt"),
    ),
    (
        "email_confirmation_signup_subject.txt",
        include_str!("templates/account/email/email_confirmation_signup_subject.txt"),
    ),
    (
        "email_confirmation_signup_message.txt",
        include_str!("templates/account/email/email_confirmation_signup_message.txt"),
    ),
    (
        "password_reset_key_subject.txt",
        include_str!("templates/account/email/password_reset_key_subject.txt"),
    ),
    (
        "password_reset_key_message.txt",
        include_str!("templates/account/email/password_reset_key_message.txt"),
    ),
];

/// The emails authbridge sends, named as allauth's template prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailTemplate {
    /// The confirmation sent at sign-up (`email_confirmation_signup`).
    EmailConfirmationSignup,
    /// The confirmation sent again (`email_confirmation`, the resend endpoint).
    EmailConfirmation,
    /// The password-reset link (`password_reset_key`).
    PasswordResetKey,
}

impl EmailTemplate {
    pub const ALL: [EmailTemplate; 3] = [
        EmailTemplate::EmailConfirmationSignup,
        EmailTemplate::EmailConfirmation,
        EmailTemplate::PasswordResetKey,
    ];

    /// allauth's template prefix (`account/email/<name>_subject.txt`, ...).
    pub fn name(self) -> &'static str {
        match self {
            EmailTemplate::EmailConfirmationSignup => "email_confirmation_signup",
            EmailTemplate::EmailConfirmation => "email_confirmation",
            EmailTemplate::PasswordResetKey => "password_reset_key",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The context variable allauth gives the link under.
    fn link_variable(self) -> &'static str {
        match self {
            EmailTemplate::EmailConfirmationSignup | EmailTemplate::EmailConfirmation => {
                "activate_url"
            }
            EmailTemplate::PasswordResetKey => "password_reset_url",
        }
    }
}

/// What an email says about the site and the user. Templates see it under allauth's names:
/// `current_site.name`, `current_site.domain`, `user_display`, `username`, `user.username`,
/// `user.email`, `email`, and the link as `activate_url` (confirmations) or `password_reset_url`
/// (reset), also as `link`; plus `site_name` and `site_domain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailContext {
    /// allauth's `Site.name` (the `[<name>] ` subject prefix, "Hello from <name>!").
    pub site_name: String,
    /// allauth's `Site.domain` ("... an account on <domain>.").
    pub site_domain: String,
    /// The user's username. The reset email names it only when it is not empty: leave it empty
    /// where allauth would not show it (login by email only).
    pub username: String,
    /// The address the email goes to.
    pub email: String,
    /// The confirmation or reset link, already built from the link template.
    pub link: String,
}

impl EmailContext {
    fn to_value(&self, template: EmailTemplate) -> Value {
        let mut site = BTreeMap::new();
        site.insert("name", Value::from(self.site_name.as_str()));
        site.insert("domain", Value::from(self.site_domain.as_str()));
        let mut user = BTreeMap::new();
        user.insert("username", Value::from(self.username.as_str()));
        user.insert("email", Value::from(self.email.as_str()));
        let mut ctx = BTreeMap::new();
        ctx.insert("current_site", Value::from(site));
        ctx.insert("site_name", Value::from(self.site_name.as_str()));
        ctx.insert("site_domain", Value::from(self.site_domain.as_str()));
        ctx.insert("user", Value::from(user));
        ctx.insert("user_display", Value::from(self.username.as_str()));
        ctx.insert("username", Value::from(self.username.as_str()));
        ctx.insert("email", Value::from(self.email.as_str()));
        ctx.insert("link", Value::from(self.link.as_str()));
        ctx.insert(template.link_variable(), Value::from(self.link.as_str()));
        Value::from(ctx)
    }

    /// The context every template is rendered with once at start-up.
    fn sample() -> Self {
        Self {
            site_name: "example.com".into(),
            site_domain: "example.com".into(),
            username: "alice".into(),
            email: "alice@example.com".into(),
            link: "https://example.com/link/".into(),
        }
    }
}

/// The loaded templates and the subject prefix.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    subject_prefix: Option<String>,
}

impl Templates {
    /// allauth's defaults only.
    pub fn defaults(subject_prefix: Option<String>) -> Result<Self, MailError> {
        Self::load(None, subject_prefix)
    }

    /// The defaults, each replaced by the file of the same name in `<dir>/account/email/` when
    /// there is one (other `.txt` and `.html` files there may be included or extended); then every
    /// email is rendered once with a sample context, so an error shows now.
    pub fn load(dir: Option<&Path>, subject_prefix: Option<String>) -> Result<Self, MailError> {
        let mut sources: BTreeMap<String, String> = DEFAULTS
            .iter()
            .map(|(file, source)| (file.to_string(), source.to_string()))
            .collect();
        if let Some(dir) = dir {
            for (file, source) in read_overrides(dir)? {
                sources.insert(file, source);
            }
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Custom(DJANGO_HTML.into())
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(django_formatter);
        for (file, source) in sources {
            let name = format!("{FOLDER}/{file}");
            env.add_template_owned(name.clone(), source)
                .map_err(|e| template_error(&name, &e))?;
        }
        let templates = Self {
            env,
            subject_prefix,
        };
        let sample = EmailContext::sample();
        for template in EmailTemplate::ALL {
            templates.render(
                template,
                "alice@example.com",
                "webmaster@localhost",
                &sample,
            )?;
        }
        Ok(templates)
    }

    /// Whether this email has an HTML alternative.
    pub fn has_html(&self, template: EmailTemplate) -> bool {
        self.env.get_template(&html_name(template)).is_ok()
    }

    /// Renders one email for `to` (an address) from `from` (`addr` or `Name <addr>`). Both are
    /// checked (no header injection);
    /// the subject is put on one line.
    pub fn render(
        &self,
        template: EmailTemplate,
        to: &str,
        from: &str,
        ctx: &EmailContext,
    ) -> Result<OutgoingEmail, MailError> {
        check_address(to)?;
        check_mailbox(from)?;
        let value = ctx.to_value(template);
        let subject_name = format!("{FOLDER}/{}_subject.txt", template.name());
        let subject = one_line_subject(&self.render_one(&subject_name, &value)?);
        let prefix = match &self.subject_prefix {
            Some(prefix) => prefix.clone(),
            None => format!("[{}] ", ctx.site_name),
        };
        // The prefix keeps its trailing space; only its line breaks go.
        let prefix: String = prefix
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let text_name = format!("{FOLDER}/{}_message.txt", template.name());
        let text = body(&self.render_one(&text_name, &value)?);
        let html = if self.has_html(template) {
            Some(body(&self.render_one(&html_name(template), &value)?))
        } else {
            None
        };
        Ok(OutgoingEmail {
            to: to.to_string(),
            from: from.to_string(),
            subject: format!("{prefix}{subject}"),
            text,
            html,
            template,
        })
    }

    fn render_one(&self, name: &str, value: &Value) -> Result<String, MailError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(value.clone()))
            .map_err(|e| template_error(name, &e))
    }
}

/// The auto-escape of `.html` templates: Django's `escape`, not minijinja's HTML escaping (which
/// also writes `/` as `&#x2f;`).
const DJANGO_HTML: &str = "django-html";

/// minijinja's formatter, but Django's escaping under `DJANGO_HTML` (also for `|e`).
fn django_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if !matches!(state.auto_escape(), AutoEscape::Custom(name) if name == DJANGO_HTML) {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = if value.is_safe() {
        value.to_string()
    } else if value.kind() == minijinja::value::ValueKind::Bool {
        // Python's `True` / `False`, as minijinja's HTML mode writes them too.
        (if value.is_true() { "True" } else { "False" }).to_string()
    } else {
        django_escape(&value.to_string())
    };
    out.write_str(&text).map_err(minijinja::Error::from)
}

/// `django.utils.html.escape`: `& < > " '` as `&amp; &lt; &gt; &quot; &#x27;`.
pub(crate) fn django_escape(s: &str) -> String {
    let mut escaped = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn html_name(template: EmailTemplate) -> String {
    format!("{FOLDER}/{}_message.html", template.name())
}

/// allauth strips a body; Django's message then ends it with one line break on the wire.
fn body(rendered: &str) -> String {
    format!("{}\n", rendered.trim())
}

fn template_error(name: &str, error: &minijinja::Error) -> MailError {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    MailError::Template {
        name: name.to_string(),
        reason,
    }
}

/// The `.txt` and `.html` files of `<dir>/account/email/`, each at most 64 KiB.
fn read_overrides(dir: &Path) -> Result<Vec<(String, String)>, MailError> {
    let folder = dir.join(FOLDER);
    let error = |reason: String| MailError::Template {
        name: folder.display().to_string(),
        reason,
    };
    if !dir.is_dir() {
        return Err(error(
            "AUTHBRIDGE_EMAIL_TEMPLATES_DIR is not a directory".into(),
        ));
    }
    if !folder.is_dir() {
        return Err(error(format!(
            "no {FOLDER}/ folder inside AUTHBRIDGE_EMAIL_TEMPLATES_DIR"
        )));
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&folder).map_err(|e| error(e.to_string()))? {
        let entry = entry.map_err(|e| error(e.to_string()))?;
        let Some(file) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !(file.ends_with(".txt") || file.ends_with(".html")) {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|e| error(format!("{file}: {e}")))?;
        if !meta.is_file() {
            continue;
        }
        if meta.len() > MAX_TEMPLATE_BYTES {
            return Err(error(format!("{file} is larger than 64 KiB")));
        }
        if files.len() == MAX_TEMPLATE_FILES {
            return Err(error(format!("more than {MAX_TEMPLATE_FILES} templates")));
        }
        let source = std::fs::read_to_string(&path).map_err(|e| error(format!("{file}: {e}")))?;
        files.push((file, source));
    }
    Ok(files)
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
