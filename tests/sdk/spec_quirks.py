"""The vendors' OpenAPI documents, with each known mistake in them corrected by name.

schemathesis runs every check against the sandbox. Where a vendor document says something the
vendor's own API does not do (and the sandbox follows the API), the document is corrected here,
one named quirk at a time, with the reason and the source. No check is turned off; a quirk that
stops applying makes `apply` fail, so the list cannot go stale silently.

Usage: python3 spec_quirks.py IN.json OUT.json OUT.toml   (prints the quirks it applied)
"""

import copy
import json
import sys

# CometChat's error envelope, as the sandbox and the live API send it
# (shared/reference/cometchat-api.md, "Errors").
COMETCHAT_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "devMessage": {"type": "string"},
                "source": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


def _operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and "responses" in op:
                yield path, method, op


def cometchat_documents_only_200(spec):
    """Every operation documents only `200`, yet the API answers 400/401/403/404/429 with its
    error envelope (the vendors' own reference pages list those codes)."""
    changed = 0
    for _, _, op in _operations(spec):
        if set(op["responses"]) == {"200"}:
            op["responses"]["default"] = {
                "description": "CometChat error",
                "content": {"application/json": {"schema": COMETCHAT_ERROR}},
            }
            changed += 1
    return changed


def cometchat_required_bodies_unmarked(spec):
    """Bodies with required fields (`POST /apikeys` name+scope, `POST /users` uid+name,
    Management's `POST /apps` name+region, the bulk `uidsToActivate`/`uidsToDeactivate` lists) are not marked `required`, so an empty body
    looks valid; the API answers 400 with the missing field named."""
    wanted = {
        ("/apps", "post"): None,
        ("/apikeys", "post"): None,
        ("/users", "post"): None,
        ("/users", "put"): ["uidsToActivate"],
        ("/users", "delete"): ["uidsToDeactivate"],
    }
    changed = 0
    for path, method, op in _operations(spec):
        if (path, method) not in wanted:
            continue
        body = op["requestBody"]
        body["required"] = True
        schema = body["content"]["application/json"]["schema"]
        fields = wanted[(path, method)]
        if fields:
            schema["required"] = fields
            for f in fields:
                schema["properties"][f]["minItems"] = 1
                schema["properties"][f]["items"] = {"type": "string", "minLength": 1}
        changed += 1
    return changed


def cometchat_paging_unbounded(spec):
    """`page` and `perPage` are plain integers; the API wants at least 1, perPage at most 1000
    (reference: "Pagination"), and an integer its (PHP) validator can read: at most 2^63-1."""
    changed = 0
    for _, _, op in _operations(spec):
        for p in op.get("parameters", []):
            if p.get("in") == "query" and p.get("name") in ("page", "perPage"):
                p["schema"]["minimum"] = 1
                p["schema"]["maximum"] = 2**63 - 1
                if p["name"] == "perPage":
                    p["schema"]["maximum"] = 1000
                changed += 1
    return changed


def cometchat_blank_strings_unmarked(spec):
    """`name` and `role` are plain strings and `avatar`/`link` plain strings, but the API
    refuses a blank name, role or tag ("The name field must have a value.", "The tags.0 field is
    required.", "… is required." for whitespace: Laravel trims) and a non-URL avatar or link
    ("The avatar must be a valid URL.") (reference: "Errors", [QA UsersTest])."""
    changed = 0
    for path, method, op in _operations(spec):
        content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        props = content.get("schema", {}).get("properties", {})
        for field in ("name", "role"):
            if field in props and props[field].get("type") == "string":
                props[field]["pattern"] = r"\S"
                changed += 1
        tags = props.get("tags", {}).get("items")
        if tags is not None:
            # "The tags.0 field is required." for an empty tag.
            tags["pattern"] = r"\S"
            changed += 1
        for field in ("avatar", "link"):
            if field in props and props[field].get("type") == "string":
                props[field]["format"] = "uri"
                props[field]["pattern"] = "^https?://[^\\s]+$"
                changed += 1
    return changed


def cometchat_documented_limits_unmarked(spec):
    """CometChat documents limits its schema leaves out: uid ≤100 alpha-dash characters, name
    and role ≤100, avatar and link ≤3000, ≤25 tags of ≤100 characters (reference 5.1,
    [CHAT][USERSDOC][CONSTR])."""
    limits = {"uid": 100, "name": 100, "role": 100, "avatar": 3000, "link": 3000}
    changed = 0
    for path, _, op in _operations(spec):
        if not path.startswith("/users"):
            continue
        content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        props = content.get("schema", {}).get("properties", {})
        for field, most in limits.items():
            if field in props:
                props[field]["maxLength"] = most
                changed += 1
        if "uid" in props:
            props["uid"]["pattern"] = "^[A-Za-z0-9_-]+$"
        if "tags" in props:
            props["tags"]["maxItems"] = 25
            props["tags"].setdefault("items", {"type": "string"})["maxLength"] = 100
            changed += 1
    return changed


def cometchat_mgmt_version_unlisted(spec):
    """`POST /apps` types `version` as any string (default "3"); only "3" is accepted (reference
    §7, "version?:\"3\" (only v3)" [MGMT create-app][MGMTERR constraints])."""
    props = spec["paths"]["/apps"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    props["properties"]["version"]["enum"] = ["3"]
    props["properties"]["name"]["maxLength"] = 100
    return 1


def ably_subset_omits_app_writes(spec):
    """The subset was cut to the operations Keydeck calls, but the Control API (and the sandbox)
    also creates apps at `/accounts/{account_id}/apps`; without the operation, the `Allow`
    header (GET, POST) looks like it advertises an undocumented method. Ably's own `app_post`
    (control-v1.yaml, ably/docs c20d2c4), transcribed whole (`additionalProperties: false`,
    every push setting); `status` takes the two values `app_response` documents ("Can be
    `enabled` or `disabled`") and `apnsAuthType` may be `null` as its `nullable` says."""
    apps = spec["paths"]["/accounts/{account_id}/apps"]
    if "post" in apps:
        return 0
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}
    text = {"type": "string", "nullable": True}
    apps["post"] = {
        "summary": "Creates an app",
        "parameters": apps["get"]["parameters"],
        "security": [{"bearer_auth": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "status": {"type": "string", "enum": ["enabled", "disabled"]},
                            "tlsOnly": {"type": "boolean", "nullable": True},
                            **{
                                field: dict(text)
                                for field in (
                                    "fcmKey",
                                    "fcmServiceAccount",
                                    "fcmProjectId",
                                    "apnsCertificate",
                                    "apnsPrivateKey",
                                    "apnsSigningKey",
                                    "apnsSigningKeyId",
                                    "apnsIssuerKey",
                                    "apnsTopicHeader",
                                )
                            },
                            "apnsUseSandboxEndpoint": {"type": "boolean", "nullable": True},
                            "apnsAuthType": {
                                "type": "string",
                                # `null` listed too: OpenAPI 3.0 checks `enum` after
                                # `nullable`, and the document means "or null".
                                "enum": ["certificate", "token", None],
                                "nullable": True,
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {
                "description": "App created",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/app_response"}}
                },
            },
            **{
                code: {"description": "Error", "content": error}
                for code in ("400", "401", "404", "422", "500")
            },
        },
    }
    return 1


# The capability operations (Ably's "Capability operations" table, docs/api/token-request-spec
# and docs/auth/capabilities), as src/model/capability.rs `OPERATIONS` lists them, and `*`.
ABLY_OPERATIONS = [
    "*",
    "subscribe",
    "publish",
    "presence",
    "object-subscribe",
    "object-publish",
    "annotation-subscribe",
    "annotation-publish",
    "message-update-own",
    "message-update-any",
    "message-delete-own",
    "message-delete-any",
    "history",
    "stats",
    "push-subscribe",
    "push-admin",
    "channel-metadata",
    "privileged-headers",
]

# A resource: a channel name (not empty, not starting with `[` or `:`, no line break), a
# `[queue]…` or `[meta]…` name, or `[*]*`.
ABLY_RESOURCE = r"^(\[(queue|meta)\][^\r\n]+|\[\*\]\*|[^\[:\r\n][^\r\n]*)$"


def ably_capability_unconstrained(spec):
    """`key_post` and `key_patch` type `capability` as any object of string arrays, but Ably
    documents what it holds: "a permitted operation string must be provided" unless it is
    exactly `*` (docs/api/token-request-spec, "Capability operations", the list "available for
    API keys and issued tokens"); resource names follow the channel rules ("can't start with
    `[` or `:`", "can't be empty", "can't contain newline characters": docs/channels) or carry
    a `[queue]`, `[meta]` or `[*]` qualifier (docs/auth/capabilities, "Resource names and
    wildcards"); and a key needs at least one capability entry (terraform-provider-ably PR #49).
    The sandbox refuses the rest with 422 42200 (reference §2.5)."""
    changed = 0
    for name in ("key_post", "key_patch"):
        cap = spec["components"]["schemas"][name]["properties"]["capability"]
        if "minProperties" in cap:
            continue
        ops = cap["additionalProperties"]
        ops["minItems"] = 1
        ops["items"] = {"type": "string", "enum": ABLY_OPERATIONS}
        cap["minProperties"] = 1
        cap["patternProperties"] = {ABLY_RESOURCE: ops}
        cap["additionalProperties"] = False
        changed += 1
    return changed


def ably_key_post_body_unmarked_required(spec):
    """`POST /apps/{app_id}/keys` requires `name` and `capability` in its body (`key_post`) but
    does not mark the body itself `required`, so an empty request looks valid; the API answers
    400 (reference §1.5.2: "A key cannot be created without at least one capability entry")."""
    body = spec["paths"]["/apps/{app_id}/keys"]["post"]["requestBody"]
    if body.get("required"):
        return 0
    body["required"] = True
    return 1


# Quirks of the API's behaviour rather than of its document: a schemathesis setting for the
# named operations only (written into a schemathesis.toml by `config`).
def cometchat_wrong_method_is_404(spec):
    """The API answers a method it does not route with 404 ERR_API_NOT_FOUND, not 405
    (reference: "ERR_API_NOT_FOUND … unknown path or wrong method" [QA][ERRDOC]; observed on
    the chat API, assumed for the Management API, which shares its error catalogue)."""
    return [
        {"include-path": path, "checks": {"unsupported_method": {"enabled": False}}}
        for path in ("/apikeys", "/users", "/apps")
        if path in spec["paths"]
    ]


def cometchat_conflict_is_400(_spec):
    """Creating a user whose uid exists answers 400 ERR_UID_ALREADY_EXISTS, not 409
    (reference: "ERR_UID_ALREADY_EXISTS | 400" [QA createUserAlreadyTaken → 400])."""
    statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
    return [
        {
            "include-name": "POST /users",
            "checks": {"positive_data_acceptance": {"expected-statuses": statuses}},
        }
    ]


def ably_revoke_deletes_by_post(spec):
    """Revoking a key is `POST /apps/{app_id}/keys/{key_id}/revoke`, which "Revokes the API key
    … This deletes the key." (control-v1.yaml; "permanently disables the key", ably-cli `auth
    keys revoke`; "Revoked keys cannot be reinstated", terraform-provider-ably), so a later
    `PATCH` of that key answers 404 as the document lists. schemathesis counts only `DELETE` as
    removing a resource, so its stateful phase takes that 404 for a created key gone missing:
    its resource-availability check is turned off for that `PATCH` alone."""
    path = "/apps/{app_id}/keys/{key_id}"
    if "patch" not in spec["paths"].get(path, {}) or "post" not in spec["paths"].get(
        path + "/revoke", {}
    ):
        return []
    return [
        {
            "include-name": f"PATCH {path}",
            "checks": {"ensure_resource_availability": {"enabled": False}},
        }
    ]


# name -> (the document or documents it applies to, function). A function returns how many places it corrected
# in the document, or the schemathesis operation settings it needs; 0 or [] when it no longer
# applies, which fails the run.
QUIRKS = {
    "cometchat-documents-only-200": (
        ("cometchat-chat", "cometchat-mgmt"),
        cometchat_documents_only_200,
    ),
    "cometchat-required-bodies-unmarked": (
        ("cometchat-chat", "cometchat-mgmt"),
        cometchat_required_bodies_unmarked,
    ),
    "cometchat-paging-unbounded": (("cometchat-chat", "cometchat-mgmt"), cometchat_paging_unbounded),
    "cometchat-blank-strings-unmarked": (
        ("cometchat-chat", "cometchat-mgmt"),
        cometchat_blank_strings_unmarked,
    ),
    "cometchat-documented-limits-unmarked": (
        "cometchat-chat",
        cometchat_documented_limits_unmarked,
    ),
    "cometchat-mgmt-version-unlisted": ("cometchat-mgmt", cometchat_mgmt_version_unlisted),
    "ably-subset-omits-app-writes": ("ably-control", ably_subset_omits_app_writes),
    "ably-capability-unconstrained": ("ably-control", ably_capability_unconstrained),
    "ably-key-post-body-unmarked-required": ("ably-control", ably_key_post_body_unmarked_required),
    "cometchat-wrong-method-is-404": (
        ("cometchat-chat", "cometchat-mgmt"),
        cometchat_wrong_method_is_404,
    ),
    "cometchat-conflict-is-400": ("cometchat-chat", cometchat_conflict_is_400),
    "ably-revoke-deletes-by-post": ("ably-control", ably_revoke_deletes_by_post),
}


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def config(operations):
    """A schemathesis.toml holding the per-operation settings of the behaviour quirks."""
    lines = []
    for op in operations:
        lines.append("[[operations]]")
        for key in ("include-path", "include-name"):
            if key in op:
                lines.append(f"{key} = {_toml(op[key])}")
        for check, settings in op["checks"].items():
            for k, v in settings.items():
                lines.append(f"checks.{check}.{k} = {_toml(v)}")
        lines.append("")
    return "\n".join(lines)


def apply(name, spec):
    """Applies every quirk listed for the document `name`; fails if one no longer applies.
    Returns the corrected document, the operation settings, and the quirks' names."""
    spec = copy.deepcopy(spec)
    applied, operations = [], []
    for quirk, (docs, fix) in QUIRKS.items():
        if name not in ((docs,) if isinstance(docs, str) else docs):
            continue
        result = fix(spec)
        if isinstance(result, list) and result:
            operations.extend(result)
        elif not result:
            raise SystemExit(f"quirk {quirk} no longer applies to {name}: remove it")
        applied.append(quirk)
    return spec, operations, applied


if __name__ == "__main__":
    src, dst, toml = sys.argv[1], sys.argv[2], sys.argv[3]
    doc = src.rsplit("/", 1)[-1].split(".")[0]
    with open(src, encoding="utf-8") as f:
        fixed, operations, applied = apply(doc, json.load(f))
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(fixed, f)
    with open(toml, "w", encoding="utf-8") as f:
        f.write(config(operations))
    print(f"{doc}: quirks applied: {', '.join(applied) or 'none'}")
