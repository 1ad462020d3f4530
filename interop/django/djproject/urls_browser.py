"""dj-rest-auth's own views where authbridge's cookie-mode endpoints are: login, refresh (its
cookie-aware TokenRefreshView), logout (blacklists the cookie's token, clears the cookie)."""
from dj_rest_auth.jwt_auth import get_refresh_view
from dj_rest_auth.views import LoginView, LogoutView
from django.urls import path

from .views import me

urlpatterns = [
    path("api/token/", LoginView.as_view()),
    path("api/token/refresh/", get_refresh_view().as_view()),
    path("api/token/blacklist/", LogoutView.as_view()),
    path("api/me/", me),
]
