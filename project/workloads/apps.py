from django.apps import AppConfig


class WorkloadsConfig(AppConfig):
    name = "project.workloads"
    label = "workloads"
