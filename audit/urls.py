from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.event_list, name="event-list"),
    path("audit/events/<int:seq>/", views.event_detail, name="event-detail"),
    path("audit/verify/", views.verify_request, name="verify"),
    path("audit/exports/", views.export_list, name="export-list"),
    path("audit/exports/<int:pk>/row/", views.export_row, name="export-row"),
    path("audit/exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("audit/exports/<int:pk>/report/", views.export_report, name="export-report"),
    path("audit/exports/<int:pk>/public-key/", views.export_public_key, name="export-key"),
]
