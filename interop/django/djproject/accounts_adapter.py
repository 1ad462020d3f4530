"""What a Django project writes so dj-rest-auth + allauth's emails link to the frontend's pages:
the confirmation link from ACCOUNT_EMAIL_CONFIRMATION_URL ({key}) and the reset link from
PASSWORD_RESET_CONFIRM_URL ({uid}, {token}). Without a template each falls back to the library's
backend link. (authbridge reads the same two settings; its users write none of this.)"""
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import user_pk_to_url_str
from dj_rest_auth.serializers import PasswordResetSerializer
from django.conf import settings


class LinkTemplateAdapter(DefaultAccountAdapter):
    def get_email_confirmation_url(self, request, emailconfirmation):
        template = getattr(settings, "ACCOUNT_EMAIL_CONFIRMATION_URL", "")
        if template:
            return template.format(key=emailconfirmation.key)
        return super().get_email_confirmation_url(request, emailconfirmation)


def _reset_link(request, user, temp_key):
    return settings.PASSWORD_RESET_CONFIRM_URL.format(uid=user_pk_to_url_str(user), token=temp_key)


class LinkTemplatePasswordResetSerializer(PasswordResetSerializer):
    def get_email_options(self):
        if getattr(settings, "PASSWORD_RESET_CONFIRM_URL", ""):
            return {"url_generator": _reset_link}
        return {}
