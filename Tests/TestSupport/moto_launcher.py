"""moto_server with two corrections of moto 5.2's CloudFormation, so that it behaves as AWS
documents; nothing else changes:

- AWS::KMS::Key's tags are {Key, Value} in a template; moto reads them as KMS's API spells them
  ({TagKey, TagValue}) and fails every change set with a tagged key (HTTP 500). They are translated.
- An executed change set leaves the stack's outputs as they were (none, for a create); AWS computes
  them from the new template. They are computed after the change set is applied.

Arguments are moto_server's. Known and left: deleting a stack with a VPC fails in moto
(DependencyViolation: its CloudFormation cannot delete route tables, VPC endpoints or gateway
attachments), so `destroy` runs to completion against the CloudFormation stand-in instead."""
import sys
from moto.cloudformation import models as cloudformation
from moto.kms import models as kms

_create = kms.Key.create_from_cloudformation_json.__func__


def _create_with_cloudformation_tags(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json.get("Properties", {})
    properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} if "Key" in t else t for t in properties.get("Tags", [])]
    return _create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)


kms.Key.create_from_cloudformation_json = classmethod(_create_with_cloudformation_tags)

_apply = cloudformation.ChangeSet.apply


def _apply_with_outputs(self):
    _apply(self)
    self.stack.template = self.template
    self.stack._parse_template()
    self.stack.output_map = self.stack._create_output_map()


cloudformation.ChangeSet.apply = _apply_with_outputs

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
