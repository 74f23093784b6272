"""What a reader's worker downloads, read through the views as the worker does."""

from wagtail_offline.manifest_parts import assemble


def served_manifest(client, version, **headers):
    """The manifest ``version`` as served: its root with the entries of every part."""

    def read(url):
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        return response.content

    return assemble(read(f"/offline/manifest-{version}.json"), read)
