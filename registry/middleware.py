from . import views

HEALTH_VIEWS = {"/healthz": views.healthz, "/readyz": views.readyz}


class HealthCheckMiddleware:
    """Answer /healthz and /readyz first in the chain.

    Load balancers and container health checks call by IP address, which
    ALLOWED_HOSTS (rightly) refuses, and over plain HTTP, which the HTTPS
    redirect would bounce. These two answers reveal nothing, so they skip both.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = HEALTH_VIEWS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
