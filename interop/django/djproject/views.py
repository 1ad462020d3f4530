from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTAuthentication


@api_view(["GET"])
@authentication_classes([JWTAuthentication])
@permission_classes([IsAuthenticated])
def me(request):
    """A protected endpoint guarded by simplejwt's stock JWTAuthentication."""
    user = request.user
    return Response({"id": user.pk, "username": user.get_username(), "email": user.email})
