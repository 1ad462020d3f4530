"""urls.py plus Django's admin (where allauth's email addresses show)."""
from django.contrib import admin
from django.urls import path

from .urls import urlpatterns as token_urls

urlpatterns = [*token_urls, path("admin/", admin.site.urls)]
