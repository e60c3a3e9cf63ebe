from django.urls import URLPattern, URLResolver, path

from policy.api import views

V = "policy/policies/<slug:slug>/versions/<int:number>/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("policy/ping", views.PingView.as_view(), name="api-policy-ping"),
    path("policy/check", views.CheckView.as_view(), name="api-policy-check"),
    path("policy/decisions/", views.DecisionListView.as_view(), name="api-policy-decisions"),
    path(
        "policy/decisions/<str:decision_id>",
        views.DecisionDetailView.as_view(),
        name="api-policy-decision",
    ),
    path("policy/policies/", views.PolicyListView.as_view(), name="api-policies"),
    path("policy/policies/<slug:slug>/", views.PolicyDetailView.as_view(), name="api-policy"),
    path(
        "policy/policies/<slug:slug>/versions/",
        views.VersionListView.as_view(),
        name="api-policy-versions",
    ),
    path(V, views.VersionDetailView.as_view(), name="api-policy-version"),
    path(V + "publish", views.VersionPublishView.as_view(), name="api-policy-version-publish"),
    path(V + "simulate", views.VersionSimulateView.as_view(), name="api-policy-version-simulate"),
    path(V + "diff", views.VersionDiffView.as_view(), name="api-policy-version-diff"),
    path(V + "rules/", views.RuleListView.as_view(), name="api-policy-rules"),
    path(V + "rules/<slug:rule_id>/", views.RuleDetailView.as_view(), name="api-policy-rule"),
    path("policy/deployments/", views.DeploymentListView.as_view(), name="api-deployments"),
    path(
        "policy/deployments/<str:reference>/",
        views.DeploymentDetailView.as_view(),
        name="api-deployment",
    ),
    path(
        "policy/deployments/<str:reference>/evaluate",
        views.DeploymentEvaluateView.as_view(),
        name="api-deployment-evaluate",
    ),
    path("policy/waivers/", views.WaiverListView.as_view(), name="api-waivers"),
    path("policy/waivers/<int:pk>/", views.WaiverDetailView.as_view(), name="api-waiver"),
    path(
        "policy/waivers/<int:pk>/approve",
        views.WaiverApproveView.as_view(),
        name="api-waiver-approve",
    ),
    path(
        "policy/waivers/<int:pk>/reject", views.WaiverRejectView.as_view(), name="api-waiver-reject"
    ),
    path(
        "policy/waivers/<int:pk>/revoke", views.WaiverRevokeView.as_view(), name="api-waiver-revoke"
    ),
    path("policy/regions/", views.RegionListView.as_view(), name="api-regions"),
    path("policy/use-cases/", views.UseCaseListView.as_view(), name="api-use-cases"),
]
