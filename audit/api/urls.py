from django.urls import path

from audit.api import views

urlpatterns = [
    path("audit/events/", views.AuditEventListView.as_view(), name="api-audit-events"),
    path(
        "audit/events/<int:seq>/",
        views.AuditEventDetailView.as_view(),
        name="api-audit-event-detail",
    ),
    path("audit/checkpoints/", views.CheckpointListView.as_view(), name="api-audit-checkpoints"),
    path("audit/keys/", views.PublicKeyListView.as_view(), name="api-audit-keys"),
    path("audit/verify/", views.VerifyView.as_view(), name="api-audit-verify"),
    path("audit/exports/", views.ExportListView.as_view(), name="api-audit-exports"),
    path(
        "audit/exports/<int:pk>/", views.ExportDetailView.as_view(), name="api-audit-export-detail"
    ),
    path(
        "audit/exports/<int:pk>/download/",
        views.ExportDownloadView.as_view(),
        name="api-audit-export-download",
    ),
]
