from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    is_staff = serializers.BooleanField(read_only=True)


# A protected endpoint guarded by simplejwt's stock JWTAuthentication: a class-based view as in the
# wire probe (Django adds HEAD, so `Allow: GET, HEAD, OPTIONS`), without a docstring (DRF's OPTIONS
# metadata would carry it as the description). `serializer_class` only describes the body to
# drf-spectacular: an APIView has no `get_serializer`, so DRF's OPTIONS metadata stays without
# actions.
class Me(APIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = MeSerializer

    def get(self, request):
        user = request.user
        # A custom user model may have no is_staff: authbridge reads it as Django's default, False.
        is_staff = getattr(user, "is_staff", False)
        return Response({"id": user.pk, "username": user.get_username(), "email": user.email, "is_staff": is_staff})


me = Me.as_view()
