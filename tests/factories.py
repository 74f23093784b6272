import factory
import wagtail_factories
from wagtail.models import PageViewRestriction

from tests.testapp.models import FormField, FormPage, PlainPage, StandardPage


class StandardPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Page {n}")
    body = "<p>Some words to read offline.</p>"

    class Meta:
        model = StandardPage


class PlainPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Plain {n}")

    class Meta:
        model = PlainPage


class FormPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Form {n}")

    class Meta:
        model = FormPage


class FormFieldFactory(factory.django.DjangoModelFactory):
    label = "Your name"
    field_type = "singleline"
    required = True

    class Meta:
        model = FormField


def restrict_with_password(page, password="secret"):
    return PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password=password
    )
