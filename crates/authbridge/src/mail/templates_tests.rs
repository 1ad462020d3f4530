//! The defaults byte for byte against the emails allauth 65.21.1 sent in the recorded probe
//! (`accounts_wire_probe.json`: register_ok_mandatory, resend_email_unverified,
//! password_reset_then_login, register_numbers_as_fields).

use super::*;

fn site(username: &str, email: &str, link: &str) -> EmailContext {
    EmailContext {
        site_name: "example.com".into(),
        site_domain: "example.com".into(),
        username: username.into(),
        email: email.into(),
        link: link.into(),
    }
}

struct Recorded {
    from: &'static str,
    to: &'static str,
    subject: &'static str,
    body: &'static str,
    link: &'static str,
}

const SIGNUP: Recorded = Recorded {
    from: "noreply@example.com",
    to: "alice@example.com",
    subject: "[example.com] Please Confirm Your Email Address",
    body: "Hello from example.com!\n\nYou're receiving this email because user alice has given your email address to register an account on example.com.\n\nTo confirm this is correct, go to http://localhost:3000/verify-email/MQ:1xXo6U:brgZbxNLSzr9tJ6wcijAXhUwRviDnonaYjQrySJom_8\n\nThank you for using example.com!\nexample.com\n",
    link: "http://localhost:3000/verify-email/MQ:1xXo6U:brgZbxNLSzr9tJ6wcijAXhUwRviDnonaYjQrySJom_8",
};

const RESEND: Recorded = Recorded {
    from: "noreply@example.com",
    to: "alice@example.com",
    subject: "[example.com] Please Confirm Your Email Address",
    body: "Hello from example.com!\n\nYou're receiving this email because user alice has given your email address to register an account on example.com.\n\nTo confirm this is correct, go to http://localhost:3000/verify-email/MQ:1xXo6b:9Ob2wo7ioxR9EN01FW1Xw2kEEGz3QRUOQGbxPZnYjf4\n\nThank you for using example.com!\nexample.com\n",
    link: "http://localhost:3000/verify-email/MQ:1xXo6b:9Ob2wo7ioxR9EN01FW1Xw2kEEGz3QRUOQGbxPZnYjf4",
};

const RESET: Recorded = Recorded {
    from: "noreply@example.com",
    to: "alice@example.com",
    subject: "[example.com] Password Reset Email",
    body: "Hello from example.com!\n\nYou're receiving this email because you or someone else has requested a password reset for your user account.\nIt can be safely ignored if you did not request a password reset. Click the link below to reset your password.\n\nhttp://localhost:3000/password-reset/confirm/1/ditv93-34ad58c2387a2d517e38ec75d8d508ea\n\nIn case you forgot, your username is alice.\n\nThank you for using example.com!\nexample.com\n",
    link: "http://localhost:3000/password-reset/confirm/1/ditv93-34ad58c2387a2d517e38ec75d8d508ea",
};

const SIGNUP_NUMERIC_USERNAME: Recorded = Recorded {
    from: "noreply@example.com",
    to: "carl@example.com",
    subject: "[example.com] Please Confirm Your Email Address",
    body: "Hello from example.com!\n\nYou're receiving this email because user 123 has given your email address to register an account on example.com.\n\nTo confirm this is correct, go to http://localhost:3000/verify-email/Mw:1xXo6X:GPuoIaWNBpArgElQyAcbES4jZXlbAjaswd0Ld18NU-Y\n\nThank you for using example.com!\nexample.com\n",
    link: "http://localhost:3000/verify-email/Mw:1xXo6X:GPuoIaWNBpArgElQyAcbES4jZXlbAjaswd0Ld18NU-Y",
};

fn check(template: EmailTemplate, username: &str, recorded: &Recorded) {
    let templates = Templates::defaults(None).unwrap();
    let email = templates
        .render(
            template,
            recorded.to,
            recorded.from,
            &site(username, recorded.to, recorded.link),
        )
        .unwrap();
    assert_eq!(email.subject, recorded.subject);
    assert_eq!(email.text, recorded.body);
    assert_eq!(email.to, recorded.to);
    assert_eq!(email.from, recorded.from);
    assert_eq!(email.html, None);
    assert_eq!(email.template, template);
}

#[test]
fn signup_confirmation_is_allauths() {
    check(EmailTemplate::EmailConfirmationSignup, "alice", &SIGNUP);
    check(
        EmailTemplate::EmailConfirmationSignup,
        "123",
        &SIGNUP_NUMERIC_USERNAME,
    );
}

#[test]
fn resent_confirmation_is_allauths() {
    check(EmailTemplate::EmailConfirmation, "alice", &RESEND);
}

#[test]
fn password_reset_is_allauths() {
    check(EmailTemplate::PasswordResetKey, "alice", &RESET);
}

#[test]
fn reset_without_username_leaves_the_line_out() {
    let templates = Templates::defaults(None).unwrap();
    let email = templates
        .render(
            EmailTemplate::PasswordResetKey,
            RESET.to,
            RESET.from,
            &site("", RESET.to, RESET.link),
        )
        .unwrap();
    assert!(!email.text.contains("In case you forgot"));
    assert!(email.text.contains(&format!("{}\n\nThank you", RESET.link)));
}

#[test]
fn subject_prefix_setting_replaces_the_site_name() {
    let templates = Templates::defaults(Some("My App: ".into())).unwrap();
    let email = templates
        .render(
            EmailTemplate::PasswordResetKey,
            RESET.to,
            RESET.from,
            &site("alice", RESET.to, RESET.link),
        )
        .unwrap();
    assert_eq!(email.subject, "My App: Password Reset Email");
}

#[test]
fn values_cannot_break_the_subject_or_escape_text() {
    let templates = Templates::defaults(None).unwrap();
    let mut ctx = site("<b>al</b>", "alice@example.com", "https://x/?a=1&b=2");
    ctx.site_name = "Evil\r\nBcc: eve@example.com".into();
    let email = templates
        .render(
            EmailTemplate::EmailConfirmation,
            "alice@example.com",
            "a@b.c",
            &ctx,
        )
        .unwrap();
    assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
    assert!(email.subject.starts_with("[Evil  Bcc: eve@example.com] "));
    // Plain text is not HTML-escaped (allauth's `{% autoescape off %}`).
    assert!(email.text.contains("user <b>al</b> has"));
    assert!(email.text.contains("https://x/?a=1&b=2"));
}

#[test]
fn refused_addresses_render_nothing() {
    let templates = Templates::defaults(None).unwrap();
    let ctx = site("alice", "alice@example.com", "https://x/");
    for to in ["alice@example.com\r\nBcc: eve@example.com", "nobody", ""] {
        assert!(matches!(
            templates.render(EmailTemplate::EmailConfirmation, to, "a@b.c", &ctx),
            Err(MailError::InvalidAddress(_))
        ));
    }
}

fn override_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(FOLDER);
    std::fs::create_dir_all(&folder).unwrap();
    for (name, source) in files {
        std::fs::write(folder.join(name), source).unwrap();
    }
    dir
}

#[test]
fn an_override_replaces_one_piece_and_html_is_escaped() {
    let dir = override_dir(&[
        (
            "email_confirmation_subject.txt",
            "Confirm your address on {{ current_site.name }}\n",
        ),
        (
            "email_confirmation_message.html",
            "<p>Hi {{ user_display }}, <a href=\"{{ activate_url }}\">confirm</a></p>\n",
        ),
    ]);
    let templates = Templates::load(Some(dir.path()), None).unwrap();
    let ctx = site("<al>", "alice@example.com", "https://x/?a=1&b=2");
    // The signup email includes the confirmation subject, so the override applies to both.
    for template in [
        EmailTemplate::EmailConfirmation,
        EmailTemplate::EmailConfirmationSignup,
    ] {
        let email = templates
            .render(template, "alice@example.com", "a@b.c", &ctx)
            .unwrap();
        assert_eq!(
            email.subject,
            "[example.com] Confirm your address on example.com"
        );
        // The default text body still applies.
        assert!(email.text.starts_with("Hello from example.com!\n\n"));
    }
    let email = templates
        .render(
            EmailTemplate::EmailConfirmation,
            "alice@example.com",
            "a@b.c",
            &ctx,
        )
        .unwrap();
    assert_eq!(
        email.html.as_deref(),
        Some("<p>Hi &lt;al&gt;, <a href=\"https://x/?a=1&amp;b=2\">confirm</a></p>\n")
    );
    assert!(templates.has_html(EmailTemplate::EmailConfirmation));
    assert!(!templates.has_html(EmailTemplate::PasswordResetKey));
}

#[test]
fn the_base_message_can_be_overridden_alone() {
    let dir = override_dir(&[(
        "base_message.txt",
        "Hi from {{ site_name }}\n\n{% block content %}{% endblock %}\n\n-- the team\n",
    )]);
    let templates = Templates::load(Some(dir.path()), None).unwrap();
    let email = templates
        .render(
            EmailTemplate::PasswordResetKey,
            "alice@example.com",
            "a@b.c",
            &site("alice", "alice@example.com", "https://x/r/"),
        )
        .unwrap();
    assert!(email
        .text
        .starts_with("Hi from example.com\n\nYou're receiving"));
    assert!(email
        .text
        .ends_with("your username is alice.\n\n-- the team\n"));
}

#[test]
fn broken_templates_fail_at_load() {
    for (file, source) in [
        ("email_confirmation_message.txt", "{% if %}"),
        ("password_reset_key_subject.txt", "{{ no_such_variable }}"),
        ("email_confirmation_message.html", "{{ user.nope.deeper }}"),
        (
            "password_reset_key_message.txt",
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        ),
        (
            "email_confirmation_signup_message.txt",
            "{% include \"account/email/missing.txt\" %}",
        ),
    ] {
        let dir = override_dir(&[(file, source)]);
        let err = Templates::load(Some(dir.path()), None).unwrap_err();
        assert!(
            matches!(&err, MailError::Template { name, .. } if name.contains(file)),
            "{file}: {err}"
        );
    }
}

#[test]
fn a_missing_or_oversized_override_dir_fails_at_load() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Templates::load(Some(&dir.path().join("nope")), None).is_err());
    // A directory without account/email/ inside is a mistake too.
    assert!(Templates::load(Some(dir.path()), None).is_err());
    let dir = override_dir(&[("base_message.txt", &"x".repeat(65 * 1024))]);
    assert!(Templates::load(Some(dir.path()), None).is_err());
}

#[test]
fn template_names_round_trip() {
    for template in EmailTemplate::ALL {
        assert_eq!(EmailTemplate::from_name(template.name()), Some(template));
    }
    assert_eq!(EmailTemplate::from_name("nope"), None);
}

/// Django's `escape` (`django.utils.html.escape`): only `& < > " '`, as `&amp; &lt; &gt; &quot;
/// &#x27;`; `/` and everything else stay as they are.
#[test]
fn html_templates_escape_as_django_does() {
    assert_eq!(
        django_escape("a/b & <c> \"d\" 'e' é=1"),
        "a/b &amp; &lt;c&gt; &quot;d&quot; &#x27;e&#x27; é=1"
    );
    let dir = override_dir(&[(
        "email_confirmation_message.html",
        "{{ activate_url }}|{{ activate_url|e }}|{{ activate_url|safe }}|{{ 7 }}|{{ true }}\n",
    )]);
    let templates = Templates::load(Some(dir.path()), None).unwrap();
    let ctx = site("al", "alice@example.com", "https://x/?a=1&b='2'");
    let email = templates
        .render(
            EmailTemplate::EmailConfirmation,
            "alice@example.com",
            "a@b.c",
            &ctx,
        )
        .unwrap();
    assert_eq!(
        email.html.as_deref(),
        Some(
            "https://x/?a=1&amp;b=&#x27;2&#x27;|https://x/?a=1&amp;b=&#x27;2&#x27;|\
             https://x/?a=1&b='2'|7|True\n"
        )
    );
}
