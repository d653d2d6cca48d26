#!/usr/bin/env python3
"""Validate fideslang files, such as `privet manifest export --format fideslang` writes.

Usage: validate.py FILE.yml [FILE.yml ...]

Each file is loaded with PyYAML (as fideslang itself loads files) and checked:

1. it is a mapping of known fideslang resource types (`system`, `data_category`, ...);
2. every resource validates against the fideslang model (`fideslang.Taxonomy`);
3. every data category, data use and data subject it references exists in fideslang's
   default taxonomy (`fideslang.default_taxonomy.DEFAULT_TAXONOMY`) or in the file itself,
   and so does the parent of every custom category, use or subject;
4. every data flow (`egress`/`ingress`) names a system or dataset defined in the file, and
   every organization_fides_key names a known organization;
5. no fides_key is defined twice in one resource type;
6. fideslang's own reference check (`fideslang.relationships.get_referenced_missing_keys`)
   finds nothing missing once the default taxonomy is merged in.

Exits 0 when every file passes, 1 when any file fails (each problem is printed on stderr),
and 2 on bad usage or a missing dependency. Requirements: tests/fideslang/requirements.txt.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable

try:
    import yaml
    import fideslang
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY
    from fideslang.models import Taxonomy
    from fideslang.relationships import get_referenced_missing_keys
    from pydantic import ValidationError
except ImportError as missing:  # pragma: no cover - depends on the environment
    print(
        f"validate.py: {missing}; install with "
        "`pip install -r tests/fideslang/requirements.txt`",
        file=sys.stderr,
    )
    sys.exit(2)

TAXONOMY_KINDS = {
    "data_category": "data category",
    "data_use": "data use",
    "data_subject": "data subject",
}


def keys_of(resources: Iterable[Any]) -> set[str]:
    """The fides_keys of parsed fideslang resources."""
    return {r.fides_key for r in resources}


def pydantic_problems(err: ValidationError, where: str) -> list[str]:
    """One line per pydantic error, with its location in the file."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(part) for part in e.get("loc", ()))
        lines.append(f"{where}{'.' + loc if loc else ''}: {e.get('msg')}")
    return lines


def check_file(path: str) -> list[str]:
    """Every problem found in one file, as messages; empty when the file is valid."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as err:
        return [f"cannot read as YAML: {err}"]
    if not isinstance(raw, dict):
        return ["the file is not a mapping of fideslang resource types"]

    problems: list[str] = []
    known_types = set(Taxonomy.model_fields)
    for resource_type in raw:
        if resource_type not in known_types:
            problems.append(
                f"unknown resource type `{resource_type}` "
                f"(fideslang knows {', '.join(sorted(known_types))})"
            )
    if not raw.get("system"):
        problems.append("no `system` resource")

    # Validate each resource on its own first, so an error names the resource it is in.
    for resource_type, resources in raw.items():
        if resource_type not in known_types:
            continue
        if not isinstance(resources, list):
            problems.append(f"`{resource_type}` is not a list")
            continue
        for i, resource in enumerate(resources):
            key = resource.get("fides_key", "?") if isinstance(resource, dict) else "?"
            where = f"{resource_type}[{i}] `{key}`"
            try:
                fideslang.model_map[resource_type].model_validate(resource)
            except ValidationError as err:
                problems.extend(pydantic_problems(err, where))
    if problems:
        return problems

    try:
        taxonomy = Taxonomy.model_validate(raw)
    except ValidationError as err:
        return pydantic_problems(err, "taxonomy")

    for resource_type in known_types:
        seen: set[str] = set()
        for resource in getattr(taxonomy, resource_type):
            key = getattr(resource, "fides_key", None)
            if key in seen:
                problems.append(f"{resource_type} `{key}` is defined twice")
            seen.add(key)

    known = {
        kind: keys_of(getattr(DEFAULT_TAXONOMY, kind)) | keys_of(getattr(taxonomy, kind))
        for kind in TAXONOMY_KINDS
    }
    organizations = keys_of(DEFAULT_TAXONOMY.organization) | keys_of(taxonomy.organization)
    flow_targets = {
        "system": keys_of(taxonomy.system),
        "dataset": keys_of(taxonomy.dataset),
    }

    def refer(kind: str, key: str | None, where: str) -> None:
        if key is not None and key not in known[kind]:
            problems.append(
                f"{where}: unknown {TAXONOMY_KINDS[kind]} `{key}` (not in fideslang "
                f"{fideslang.__version__}'s default taxonomy, nor defined in this file)"
            )

    for kind, label in TAXONOMY_KINDS.items():
        for entry in getattr(taxonomy, kind):
            where = f"{kind} `{entry.fides_key}`"
            refer(kind, getattr(entry, "parent_key", None), f"{where}.parent_key")
            if entry.organization_fides_key not in organizations:
                problems.append(
                    f"{where}: unknown organization `{entry.organization_fides_key}`"
                )
            if entry.is_default:
                problems.append(f"{where}: a custom {label} must not claim is_default")

    for system in taxonomy.system:
        where = f"system `{system.fides_key}`"
        if system.organization_fides_key not in organizations:
            problems.append(f"{where}: unknown organization `{system.organization_fides_key}`")
        for direction in ("egress", "ingress"):
            for flow in getattr(system, direction) or []:
                flow_where = f"{where}.{direction} `{flow.fides_key}`"
                if flow.type in flow_targets and flow.fides_key not in flow_targets[flow.type]:
                    problems.append(f"{flow_where}: no {flow.type} with that key in this file")
                for category in flow.data_categories or []:
                    refer("data_category", category, flow_where)
        if not system.privacy_declarations:
            problems.append(f"{where}: no privacy declarations")
        for declaration in system.privacy_declarations:
            decl_where = f"{where}.privacy_declarations `{declaration.name}`"
            refer("data_use", declaration.data_use, decl_where)
            if not declaration.data_categories:
                problems.append(f"{decl_where}: no data categories")
            for category in declaration.data_categories:
                refer("data_category", category, decl_where)
            for category in declaration.shared_categories:
                refer("data_category", category, f"{decl_where}.shared_categories")
            for subject in declaration.data_subjects:
                refer("data_subject", subject, decl_where)

    # fideslang's own check that every referenced fides_key resolves, over the default
    # taxonomy merged with the file.
    merged = Taxonomy(
        data_category=DEFAULT_TAXONOMY.data_category + taxonomy.data_category,
        data_use=DEFAULT_TAXONOMY.data_use + taxonomy.data_use,
        data_subject=DEFAULT_TAXONOMY.data_subject + taxonomy.data_subject,
        organization=DEFAULT_TAXONOMY.organization + taxonomy.organization,
        dataset=taxonomy.dataset,
        system=taxonomy.system,
        policy=taxonomy.policy,
    )
    for key in sorted(get_referenced_missing_keys(merged)):
        message = f"fideslang: `{key}` is referenced but defined nowhere"
        if not any(f"`{key}`" in p for p in problems):
            problems.append(message)
    return problems


def main(argv: list[str]) -> int:
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip(), file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    failed = 0
    for path in argv:
        problems = check_file(path)
        if problems:
            failed += 1
            print(f"FAIL {path}", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
        else:
            print(f"ok   {path} (fideslang {fideslang.__version__})")
    if failed:
        print(f"{failed} of {len(argv)} file(s) failed fideslang validation", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
