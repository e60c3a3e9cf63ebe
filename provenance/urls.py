from django.urls import path

from provenance import views

app_name = "provenance"

urlpatterns = [
    path("provenance/", views.job_list, name="job-list"),
    path("provenance/jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("provenance/jobs/<int:pk>/download/", views.job_download, name="job-download"),
    path("provenance/verify/", views.verify, name="verify"),
    path("provenance/credentials/", views.credential_list, name="credential-list"),
]
