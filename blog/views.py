"""Readers' pages."""
from django.http import HttpResponse


def home(request):
    return HttpResponse("<!doctype html><title>Blog</title><h1>Blog</h1>")
