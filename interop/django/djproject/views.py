from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication


# A protected endpoint guarded by simplejwt's stock JWTAuthentication: a class-based view as in the
# wire probe (Django adds HEAD, so `Allow: GET, HEAD, OPTIONS`), without a docstring (DRF's OPTIONS
# metadata would carry it as the description).
class Me(APIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "username": user.get_username(), "email": user.email})


me = Me.as_view()
