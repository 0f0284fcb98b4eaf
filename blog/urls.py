"""Readers' URLs (SPEC "Reader-facing contract")."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
]
