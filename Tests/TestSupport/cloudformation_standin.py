"""A stand-in for the CloudFormation Query API, for the failure paths moto cannot produce: a
resource that fails to create and the rollback that follows, a first create left in
ROLLBACK_COMPLETE, a stack whose update is in progress.

It speaks the real protocol (form-encoded POST, XML answers, Query errors) for the calls a deploy
makes: DescribeStacks, CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet,
DeleteStack, DescribeStackEvents, GetTemplate, ListStackResources, and drift detection
(DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts). What executing a
change set does is replayed from a scenario file (JSON), one recorded event sequence per execution:

  {"stacks": {"NAME": "UPDATE_IN_PROGRESS"},            # stacks that exist before, with their status
   "executions": [{"events": [[logical_id, type, status, reason], ...], "final": "ROLLBACK_COMPLETE"}, ...],
   "drift": [{"id": logical_id, "type": type, "status": "MODIFIED",
              "differences": [[path, "ADD" | "REMOVE" | "NOT_EQUAL", expected, actual], ...]}]}

Events are released one every 50 ms after ExecuteChangeSet, newest first in DescribeStackEvents, as
CloudFormation pages them. The signature is not checked (moto's checking instance covers signing).
Prints the port it listens on, then serves until killed.
"""
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import yaml

scenario = json.load(open(sys.argv[1]))
lock = threading.Lock()
stacks = {}  # stack id -> dict(name, status, template, events, resources, deleted)
change_sets = {}  # change set id -> dict(stack, name, status, changes, template)
executions = list(scenario.get("executions", []))
ACCOUNT = "123456789012"
REGION = "eu-west-1"


def new_stack(name, status):
    stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/{uuid.uuid4()}"
    stacks[stack_id] = {"name": name, "status": status, "template": "", "events": [], "resources": {}, "deleted": False}
    return stack_id


for stack_name, stack_status in scenario.get("stacks", {}).items():
    new_stack(stack_name, stack_status)


def find(name_or_id):
    """By ID a deleted stack still answers (DELETE_COMPLETE), by name only a live one, as in AWS."""
    for stack_id, stack in stacks.items():
        if stack_id == name_or_id:
            return stack_id, stack
    for stack_id, stack in stacks.items():
        if stack["name"] == name_or_id and not stack["deleted"]:
            return stack_id, stack
    return None, None


def event(stack_id, stack, logical_id, resource_type, status, reason=""):
    stack["events"].append({
        "EventId": str(uuid.uuid4()), "StackId": stack_id, "StackName": stack["name"], "LogicalResourceId": logical_id,
        "ResourceType": resource_type, "ResourceStatus": status, "ResourceStatusReason": reason,
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
    })
    if resource_type == "AWS::CloudFormation::Stack":
        stack["status"] = status
    else:
        stack["resources"][logical_id] = (resource_type, status)


def replay(stack_id, stack, sequence, final):
    for logical_id, resource_type, status, reason in sequence:
        time.sleep(0.05)
        with lock:
            event(stack_id, stack, logical_id, resource_type, status, reason)
    with lock:
        event(stack_id, stack, stack["name"], "AWS::CloudFormation::Stack", final)


def member_list(items):
    return "".join(f"<member>{item}</member>" for item in items)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, xml):
        body = xml.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def result(self, action, inner):
        ns = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
        self.answer(200, f'<{action}Response xmlns="{ns}"><{action}Result>{inner}</{action}Result>'
                         f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>")

    def error(self, code, message, status=400):
        self.answer(status, f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
                            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
        action = form.get("Action", "")
        handler = getattr(self, "action_" + action, None)
        if handler is None:
            return self.error("InvalidAction", f"{action} is not served by this stand-in")
        with lock:
            handler(form)

    def action_DescribeStacks(self, form):
        stack_id, stack = find(form.get("StackName", ""))
        if stack is None:
            return self.error("ValidationError", f"Stack with id {form.get('StackName')} does not exist")
        self.result("DescribeStacks", f"<Stacks><member><StackId>{stack_id}</StackId><StackName>{stack['name']}</StackName>"
                                      f"<StackStatus>{stack['status']}</StackStatus><Parameters/><Outputs/><Tags/></member></Stacks>")

    def action_CreateChangeSet(self, form):
        stack_id, stack = find(form["StackName"])
        if form.get("ChangeSetType") == "CREATE":
            if stack is not None and stack["status"] != "REVIEW_IN_PROGRESS":
                return self.error("ValidationError", f"Stack [{form['StackName']}] already exists and cannot be created again with the changeSet")
            if stack is None:
                stack_id = new_stack(form["StackName"], "REVIEW_IN_PROGRESS")
                stack = stacks[stack_id]
        elif stack is None:
            return self.error("ValidationError", f"Stack [{form['StackName']}] does not exist")
        elif stack["status"] in ("ROLLBACK_COMPLETE",) or stack["status"].endswith("_IN_PROGRESS"):
            return self.error("ValidationError", f"Stack:{stack_id} is in {stack['status']} state and can not be updated.")
        template = yaml.safe_load(form["TemplateBody"])
        changes = []
        for logical_id, resource in template.get("Resources", {}).items():
            action = "Modify" if logical_id in stack["resources"] else "Add"
            changes.append({"Action": action, "LogicalResourceId": logical_id, "ResourceType": resource["Type"]})
        change_set_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{form['ChangeSetName']}/{uuid.uuid4()}"
        change_sets[change_set_id] = {"stack": stack_id, "changes": changes, "template": form["TemplateBody"]}
        self.result("CreateChangeSet", f"<Id>{change_set_id}</Id><StackId>{stack_id}</StackId>")

    def action_DescribeChangeSet(self, form):
        change_set = change_sets.get(form["ChangeSetName"])
        if change_set is None:
            return self.error("ChangeSetNotFound", f"ChangeSet [{form['ChangeSetName']}] does not exist")
        changes = member_list(
            f"<Type>Resource</Type><ResourceChange><Action>{c['Action']}</Action><LogicalResourceId>{c['LogicalResourceId']}</LogicalResourceId>"
            f"<ResourceType>{c['ResourceType']}</ResourceType>{'<Replacement>False</Replacement>' if c['Action'] == 'Modify' else ''}"
            f"<Details/></ResourceChange>" for c in change_set["changes"])
        self.result("DescribeChangeSet", f"<ChangeSetId>{form['ChangeSetName']}</ChangeSetId><Status>CREATE_COMPLETE</Status>"
                                         f"<ExecutionStatus>AVAILABLE</ExecutionStatus><Changes>{changes}</Changes>")

    def action_ExecuteChangeSet(self, form):
        change_set = change_sets.pop(form["ChangeSetName"], None)
        if change_set is None:
            return self.error("ChangeSetNotFound", f"ChangeSet [{form['ChangeSetName']}] does not exist")
        stack_id = change_set["stack"]
        stack = stacks[stack_id]
        creating = stack["status"] == "REVIEW_IN_PROGRESS"
        stack["template"] = change_set["template"]
        event(stack_id, stack, stack["name"], "AWS::CloudFormation::Stack",
              "CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS", "User Initiated")
        recorded = executions.pop(0) if executions else {"events": [], "final": "CREATE_COMPLETE" if creating else "UPDATE_COMPLETE"}
        threading.Thread(target=replay, args=(stack_id, stack, recorded["events"], recorded["final"]), daemon=True).start()
        self.result("ExecuteChangeSet", "")

    def action_DeleteChangeSet(self, form):
        change_sets.pop(form["ChangeSetName"], None)
        self.result("DeleteChangeSet", "")

    def action_DeleteStack(self, form):
        stack_id, stack = find(form["StackName"])
        if stack is not None and not stack["deleted"]:
            event(stack_id, stack, stack["name"], "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS", "User Initiated")
            sequence = [[logical_id, rtype, "DELETE_COMPLETE", ""] for logical_id, (rtype, status) in stack["resources"].items()
                        if status != "DELETE_COMPLETE"]

            def delete():
                replay(stack_id, stack, sequence, "DELETE_COMPLETE")
                with lock:
                    stack["deleted"] = True
            threading.Thread(target=delete, daemon=True).start()
        self.result("DeleteStack", "")

    def action_DescribeStackEvents(self, form):
        stack_id, stack = find(form["StackName"])
        if stack is None:
            return self.error("ValidationError", f"Stack [{form['StackName']}] does not exist")
        events = member_list("".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in e.items()) for e in reversed(stack["events"]))
        self.result("DescribeStackEvents", f"<StackEvents>{events}</StackEvents>")

    def action_GetTemplate(self, form):
        stack_id, stack = find(form["StackName"])
        if stack is None:
            return self.error("ValidationError", f"Stack with id {form['StackName']} does not exist")
        self.result("GetTemplate", f"<TemplateBody>{escape(stack['template'])}</TemplateBody>")

    def action_ListStackResources(self, form):
        stack_id, stack = find(form["StackName"])
        if stack is None:
            return self.error("ValidationError", f"Stack with id {form['StackName']} does not exist")
        summaries = member_list(f"<LogicalResourceId>{k}</LogicalResourceId><PhysicalResourceId>{k.lower()}-physical</PhysicalResourceId>"
                                f"<ResourceType>{t}</ResourceType><ResourceStatus>{s}</ResourceStatus>" for k, (t, s) in stack["resources"].items())
        self.result("ListStackResources", f"<StackResourceSummaries>{summaries}</StackResourceSummaries>")

    def action_DetectStackDrift(self, form):
        self.result("DetectStackDrift", f"<StackDriftDetectionId>{uuid.uuid4()}</StackDriftDetectionId>")

    def action_DescribeStackDriftDetectionStatus(self, form):
        status = "DRIFTED" if scenario.get("drift") else "IN_SYNC"
        self.result("DescribeStackDriftDetectionStatus", f"<StackDriftDetectionId>{form['StackDriftDetectionId']}</StackDriftDetectionId>"
                                                         f"<DetectionStatus>DETECTION_COMPLETE</DetectionStatus><StackDriftStatus>{status}</StackDriftStatus>")

    def action_DescribeStackResourceDrifts(self, form):
        def difference(d):
            return (f"<PropertyPath>{escape(d[0])}</PropertyPath><DifferenceType>{d[1]}</DifferenceType>"
                    f"<ExpectedValue>{escape(d[2] or '')}</ExpectedValue><ActualValue>{escape(d[3] or '')}</ActualValue>")
        drifts = member_list(
            f"<LogicalResourceId>{r['id']}</LogicalResourceId><ResourceType>{r['type']}</ResourceType>"
            f"<StackResourceDriftStatus>{r['status']}</StackResourceDriftStatus>"
            f"<PropertyDifferences>{member_list(difference(d) for d in r['differences'])}</PropertyDifferences>"
            for r in scenario.get("drift", []))
        self.result("DescribeStackResourceDrifts", f"<StackResourceDrifts>{drifts}</StackResourceDrifts>")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
