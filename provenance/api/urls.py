from django.urls import path

from provenance.api import views

urlpatterns = [
    path("provenance/sign/", views.SignView.as_view(), name="provenance-api-sign"),
    path("provenance/jobs/", views.JobListView.as_view(), name="provenance-api-job-list"),
    path(
        "provenance/jobs/<int:pk>/", views.JobDetailView.as_view(), name="provenance-api-job-detail"
    ),
    path(
        "provenance/jobs/<int:pk>/download/",
        views.JobDownloadView.as_view(),
        name="provenance-api-job-download",
    ),
    path("provenance/verify/", views.VerifyView.as_view(), name="provenance-api-verify"),
]
