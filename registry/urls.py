from django.urls import URLPattern, URLResolver, path

from registry import views

app_name = "registry"

urlpatterns: list[URLPattern | URLResolver] = [
    path("models/", views.model_list, name="model-list"),
    path("models/import/", views.card_import, name="model-import"),
    path("models/compare/", views.compare, name="model-compare"),
    path("models/<slug:slug>/", views.model_detail, name="model-detail"),
    path("model-versions/<int:pk>/aibom/", views.aibom_download, name="version-aibom"),
    path("model-versions/<int:pk>/<str:action>/", views.version_action, name="version-action"),
    path("approvals/", views.approval_queue, name="approval-queue"),
]
