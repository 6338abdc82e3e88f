#!/usr/bin/env python3
"""Runs a composite action's steps as a GitHub runner would, without the network.

    run_action.py ACTION_DIR WORKSPACE [--input NAME=VALUE]... [--cache-from DIR]

Each `run:` step runs in `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`) with its
`env:`, its `working-directory`, and `${{ }}` expressions substituted; `if:` is evaluated
(`success()` unless a status function is named); GITHUB_OUTPUT, GITHUB_PATH and GITHUB_ENV work as
on a runner (PATH additions apply to the steps after). Two actions stand in for their real selves:
`actions/cache` restores `--cache-from` into its path and says `cache-hit: true` (without it, a
miss), and `github/codeql-action/upload-sarif` checks that its file is JSON and records it.
Prints a JSON report: each step's id, whether it ran, its outcome and output; and the uploads.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml


def main():
    action_dir, workspace = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    given, cache_from = {}, None
    arguments = sys.argv[3:]
    while arguments:
        flag, value = arguments[0], arguments[1]
        arguments = arguments[2:]
        if flag == "--input":
            name, _, text = value.partition("=")
            given[name] = text
        elif flag == "--cache-from":
            cache_from = value
        else:
            sys.exit(f"unknown flag {flag}")
    with open(os.path.join(action_dir, "action.yml")) as file:
        action = yaml.safe_load(file)
    assert action["runs"]["using"] == "composite", "not a composite action"
    inputs = {name: str(spec.get("default", "")) for name, spec in action.get("inputs", {}).items()}
    unknown = set(given) - set(inputs)
    assert not unknown, f"inputs the action does not declare: {sorted(unknown)}"
    inputs.update(given)

    runner_temp = tempfile.mkdtemp(prefix="runner-temp-")
    context = {
        "inputs": inputs,
        "steps": {},
        "runner": {"temp": runner_temp, "os": "Linux", "arch": "X64" if os.uname().machine == "x86_64" else "ARM64"},
        "github": {"action_path": action_dir, "workspace": workspace},
        "env": {},
    }
    path_additions, extra_env = [], {}
    report = {"steps": [], "uploads": [], "runner_temp": runner_temp}
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"__{index}")
        condition = str(step.get("if", "success()"))
        if not re.search(r"\b(always|success|failure|cancelled)\(\)", condition):
            condition = f"success() && ({condition})"
        ran = bool(Expression(condition, context, failed).value())
        entry = {"id": step_id, "ran": ran, "outcome": "skipped", "stdout": "", "stderr": ""}
        report["steps"].append(entry)
        context["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
        if not ran:
            continue
        with_values = {key: substitute(str(value), context, failed) for key, value in (step.get("with") or {}).items()}
        outputs, ok = {}, True
        if "uses" in step:
            uses = step["uses"].split("@")[0]
            if uses == "actions/cache":
                if cache_from:
                    shutil.copytree(cache_from, with_values["path"], dirs_exist_ok=True)
                outputs["cache-hit"] = "true" if cache_from else "false"
            elif uses == "github/codeql-action/upload-sarif":
                with open(with_values["sarif_file"]) as file:
                    json.load(file)
                report["uploads"].append(with_values)
            else:
                raise SystemExit(f"no stand-in for the action {step['uses']}")
        else:
            environment = dict(os.environ)
            environment.update(extra_env)
            environment["PATH"] = os.pathsep.join(list(reversed(path_additions)) + [environment["PATH"]])
            environment.update({"GITHUB_ACTION_PATH": action_dir, "GITHUB_WORKSPACE": workspace, "RUNNER_TEMP": runner_temp,
                                "RUNNER_OS": context["runner"]["os"], "RUNNER_ARCH": context["runner"]["arch"], "CI": "true",
                                "GITHUB_ACTIONS": "true"})
            for key, value in (step.get("env") or {}).items():
                environment[key] = substitute(str(value), context, failed)
            files = {name: tempfile.mkstemp(prefix=f"{name.lower()}-")[1] for name in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV")}
            environment.update(files)
            script = tempfile.mkstemp(suffix=".sh")[1]
            with open(script, "w") as file:
                file.write(substitute(step["run"], context, failed))
            directory = os.path.join(workspace, substitute(str(step.get("working-directory", ".")), context, failed))
            process = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=directory,
                                     env=environment, capture_output=True, text=True)
            entry["stdout"], entry["stderr"], entry["status"] = process.stdout, process.stderr, process.returncode
            ok = process.returncode == 0
            outputs = read_key_values(files["GITHUB_OUTPUT"])
            extra_env.update(read_key_values(files["GITHUB_ENV"]))
            with open(files["GITHUB_PATH"]) as file:
                path_additions += [line.strip() for line in file if line.strip()]
        entry["outcome"] = "success" if ok else "failure"
        context["steps"][step_id] = {"outputs": outputs, "outcome": entry["outcome"], "conclusion": entry["outcome"]}
        failed = failed or not ok
    report["outputs"] = {name: substitute(str(spec["value"]), context, failed) for name, spec in action.get("outputs", {}).items()}
    json.dump(report, sys.stdout, indent=2)


def read_key_values(path):
    """GITHUB_OUTPUT's two forms: `name=value`, and `name<<DELIMITER` … `DELIMITER`."""
    values = {}
    with open(path) as file:
        lines = file.read().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            values[name] = "\n".join(lines[index + 1:end])
            index = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        index += 1
    return values


def substitute(text, context, failed):
    def replace(match):
        value = Expression(match.group(1), context, failed).value()
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    return re.sub(r"\$\{\{(.*?)\}\}", replace, text)


class Expression:
    """GitHub's expression language, the part actions use: literals, context paths, ==, !=, !, &&, ||,
    parentheses and the status functions. Comparison of strings is case-insensitive, as GitHub's is."""
    TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|'((?:[^']|'')*)'|(==|!=|&&|\|\||!|\(|\))|([A-Za-z_][\w.\-]*\(\))|([A-Za-z_][\w.\-]*))")

    def __init__(self, text, context, failed):
        self.tokens, position = [], 0
        text = text.strip()
        while position < len(text):
            match = self.TOKEN.match(text, position)
            if not match or match.end() == position:
                raise SystemExit(f"cannot read the expression {text!r} at {position}")
            number, string, operator, function, path = match.groups()
            if number is not None:
                self.tokens.append(("value", float(number)))
            elif string is not None:
                self.tokens.append(("value", string.replace("''", "'")))
            elif operator is not None:
                self.tokens.append(("op", operator))
            elif function is not None:
                self.tokens.append(("value", self.status(function, failed)))
            else:
                self.tokens.append(("value", self.lookup(path, context)))
            position = match.end()
        self.position = 0

    @staticmethod
    def status(function, failed):
        return {"always()": True, "success()": not failed, "failure()": failed, "cancelled()": False}[function]

    @staticmethod
    def lookup(path, context):
        if path in ("true", "false"):
            return path == "true"
        if path == "null":
            return None
        value = context
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def value(self):
        result = self.either()
        assert self.position == len(self.tokens), "trailing tokens in the expression"
        return result

    def either(self):
        left = self.both()
        while self.peek("||"):
            self.position += 1
            right = self.both()
            left = left if truthy(left) else right
        return left

    def both(self):
        left = self.comparison()
        while self.peek("&&"):
            self.position += 1
            right = self.comparison()
            left = right if truthy(left) else left
        return left

    def comparison(self):
        left = self.unary()
        while self.peek("==") or self.peek("!="):
            operator = self.tokens[self.position][1]
            self.position += 1
            right = self.unary()
            equal = normalise(left) == normalise(right)
            left = equal if operator == "==" else not equal
        return left

    def unary(self):
        if self.peek("!"):
            self.position += 1
            return not truthy(self.unary())
        if self.peek("("):
            self.position += 1
            inner = self.either()
            assert self.peek(")"), "unbalanced parentheses"
            self.position += 1
            return inner
        kind, value = self.tokens[self.position]
        assert kind == "value", f"expected a value, found {value!r}"
        self.position += 1
        return value

    def peek(self, operator):
        return self.position < len(self.tokens) and self.tokens[self.position] == ("op", operator)


def truthy(value):
    return value not in (None, False, 0, "", 0.0)


def normalise(value):
    return value.lower() if isinstance(value, str) else ("" if value is None else value)


if __name__ == "__main__":
    main()
