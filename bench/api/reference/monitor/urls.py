"""URLs of the reference's JSON API, the two routes the API benchmark compares."""
from django.urls import path

from alerts import views

urlpatterns = [
    path("api/v1/alerts", views.alert_list),
    path("api/v1/alerts/<int:alert_id>", views.alert_detail),
]
