from django.urls import URLPattern, URLResolver, path

from registry.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("models/", views.ModelListView.as_view(), name="api-model-list"),
    path("models/import-card/", views.CardImportView.as_view(), name="api-model-import-card"),
    path("models/<slug:slug>/", views.ModelDetailView.as_view(), name="api-model-detail"),
    path(
        "models/<slug:slug>/versions/",
        views.ModelVersionsView.as_view(),
        name="api-model-versions",
    ),
    path("model-versions/compare/", views.CompareView.as_view(), name="api-model-version-compare"),
    path("model-versions/<int:pk>/", views.VersionDetailView.as_view(), name="api-version-detail"),
    path(
        "model-versions/<int:pk>/facts/", views.VersionFactsView.as_view(), name="api-version-facts"
    ),
    path("model-versions/<int:pk>/submit/", views.SubmitView.as_view(), name="api-version-submit"),
    path(
        "model-versions/<int:pk>/approve/", views.ApproveView.as_view(), name="api-version-approve"
    ),
    path("model-versions/<int:pk>/reject/", views.RejectView.as_view(), name="api-version-reject"),
    path(
        "model-versions/<int:pk>/request-changes/",
        views.RequestChangesView.as_view(),
        name="api-version-request-changes",
    ),
    path("model-versions/<int:pk>/revoke/", views.RevokeView.as_view(), name="api-version-revoke"),
    path(
        "model-versions/<int:pk>/deprecate/",
        views.DeprecateView.as_view(),
        name="api-version-deprecate",
    ),
    path(
        "model-versions/<int:pk>/risk-override/",
        views.RiskOverrideView.as_view(),
        name="api-version-risk-override",
    ),
    path("model-versions/<int:pk>/evals/", views.EvalListView.as_view(), name="api-version-evals"),
    path(
        "model-versions/<int:pk>/evals/import-lm-eval/",
        views.LmEvalImportView.as_view(),
        name="api-version-evals-import",
    ),
    path("model-versions/<int:pk>/aibom/", views.AIBOMView.as_view(), name="api-version-aibom"),
    path("approvals/", views.ApprovalQueueView.as_view(), name="api-approval-queue"),
    path("licenses/", views.LicenseListView.as_view(), name="api-license-list"),
    path("licenses/<str:spdx_id>/", views.LicenseDetailView.as_view(), name="api-license-detail"),
]
