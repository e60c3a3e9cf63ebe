from django.urls import URLPattern, URLResolver, path

from policy import views

app_name = "policy"

V = "policies/<slug:slug>/v<int:number>/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("policies/", views.policy_list, name="policy-list"),
    path("policies/<slug:slug>/", views.policy_detail, name="policy-detail"),
    path("policies/<slug:slug>/versions/new", views.version_new, name="version-new"),
    path("policies/<slug:slug>/diff", views.version_diff_view, name="version-diff"),
    path(V, views.version_detail, name="version-detail"),
    path(V + "params", views.version_params, name="version-params"),
    path(V + "publish", views.version_publish, name="version-publish"),
    path(V + "simulate", views.version_simulate, name="version-simulate"),
    path(V + "rules/new", views.rule_edit, name="rule-new"),
    path(V + "rules/<slug:rule_id>/edit", views.rule_edit, name="rule-edit"),
    path(V + "rules/<slug:rule_id>/delete", views.rule_delete, name="rule-delete"),
    path("deployments/", views.deployment_list, name="deployment-list"),
    path("deployments/new", views.deployment_form, name="deployment-new"),
    path("deployments/<slug:slug>/", views.deployment_detail, name="deployment-detail"),
    path("deployments/<slug:slug>/edit", views.deployment_form, name="deployment-edit"),
    path("deployments/<slug:slug>/evaluate", views.deployment_evaluate, name="deployment-evaluate"),
    path("waivers/", views.waiver_list, name="waiver-list"),
    path("waivers/<int:pk>/<str:action>", views.waiver_action, name="waiver-action"),
    path("decisions/", views.decision_list, name="decision-list"),
    path("decisions/<str:decision_id>/", views.decision_detail, name="decision-detail"),
]
