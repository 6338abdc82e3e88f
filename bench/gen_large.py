#!/usr/bin/env python3
"""Writes bench/out/large.yaml (a Sluice spec with 200 subnets, 500 security groups, 300 tables,
plus functions, hosts and pipelines) and bench/out/large-template.yaml (a CloudFormation template
with about as many resources), deterministically."""
import os

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
os.makedirs(out, exist_ok=True)
SUBNETS, GROUPS, TABLES, FUNCTIONS = 200, 500, 300, 20

spec = ["project: { name: large, region: eu-west-1, account: \"123456789012\" }", "network:",
        "  vpc: { cidr: 10.0.0.0/16 }", "  internet_gateway: igw", "  subnets:"]
kinds = ["public", "private", "isolated"]
for i in range(SUBNETS):
    kind = "public" if i < 4 else ("private" if i < 100 else "isolated")
    spec.append(f"    - {{ name: s{i}, cidr: 10.0.{i}.0/24, az: {'abc'[i % 3]}, type: {kind} }}")
spec += ["  nat_gateways:", "    - { name: nat-a, subnet: s0 }", "    - { name: nat-b, subnet: s1 }",
         "  endpoints:", "    - { name: s3, service: s3 }",
         "    - { name: secretsmanager, service: secretsmanager, subnets: [s100, s101], security_groups: [g1] }",
         "  security_groups:"]
spec += ["    - name: g0", "      ingress:", "        - { port: 5432, security_group: g2 }"] + \
        [f"        - {{ port: 5432, security_group: g{j} }}" for j in range(10, 10 + FUNCTIONS)] + \
        ["      egress:", "        - { port: 443, prefix_list: s3 }", "        - { port: 443, security_group: g1 }"]
spec += ["    - name: g1", "      ingress:", "        - { port: 443, security_group: g2 }", "        - { port: 443, security_group: g0 }"] + \
        [f"        - {{ port: 443, security_group: g{j} }}" for j in range(10, 10 + FUNCTIONS)] + ["      egress: []"]
for g in range(2, GROUPS):
    spec += [f"    - name: g{g}", f"      description: group {g}", "      ingress:",
             f"        - {{ port: {8000 + g % 100}, security_group: g{(g + 1) % GROUPS}, description: app traffic }}",
             f"        - {{ port: 443, cidr: 10.0.{g % 200}.0/24 }}", "      egress:",
             "        - { port: 443, prefix_list: s3 }", "        - { port: 443, security_group: g1 }",
             "        - { port: 5432, security_group: g0 }"]
spec += ["storage:", "  buckets:"] + [f"    - {{ name: b{i}, prefixes: [data/] }}" for i in range(10)]
spec += ["messaging:", "  secrets: [{ name: dw, generate_for: admin }]", "compute:", "  functions:"]
for f in range(FUNCTIONS):
    spec.append(f"    - {{ name: f{f}, reserved_concurrency: 4, subnets: [s{100 + 2 * f}, s{101 + 2 * f}], security_groups: [g{10 + f}] }}")
spec += ["  hosts:", "    - { name: dwhost, instance_type: r6i.xlarge, subnet: s150, security_groups: [g0] }"]
spec += [f"    - {{ name: h{h}, instance_type: t3.small, subnet: s{160 + h}, security_groups: [g{100 + h}] }}" for h in range(30)]
spec += ["warehouse:", "  name: dw", "  engine: ec2", "  host: dwhost", "  database: large", "  credentials_secret: dw",
         f"  clients: [g2, {', '.join(f'g{j}' for j in range(10, 10 + FUNCTIONS))}]", "  schemas: [dw]", "  tables:"]
for t in range(TABLES):
    spec += [f"    - name: t{t}", "      columns:", "        - { name: id, type: bigint, primary_key: true }",
             "        - { name: name, type: text, not_null: true }", "        - { name: amount, type: \"numeric(12,2)\" }",
             "        - { name: attributes, type: jsonb }", "        - { name: happened_at, type: timestamptz, not_null: true }",
             "        - { name: created_at, type: timestamptz, not_null: true, default: now() }",
             "      indexes:", "        - { columns: [happened_at], method: brin }"]
# One writer role for every table: the pipelines log in as it (SL506).
spec += ["  roles:", "    - name: loader", "      grants:", "        - privileges: [SELECT, INSERT, UPDATE]", "          on: [\"schema:dw\"]"]
spec.append("pipelines:")
for f in range(FUNCTIONS):
    spec += [f"  - name: p{f}", f"    workload: f{f}", "    schedule: cron(0/15 * * * ? *)",
             f"    source: {{ bucket: b{f % 10}, prefix: \"data/{{yyyy}}/{{MM}}/{{dd}}/{{HH}}/\", format: jsonl }}",
             "    fields:", "      id: { type: integer, required: true }", "      at: { type: timestamp, required: true }",
             "    targets:"]
    for t in range(3):
        spec += [f"      - table: t{(f * 3 + t) % TABLES}", "        mode: upsert", "        key: [id]", "        columns:",
                 "          id: id", "          name: { from: name, transform: [trim] }", "          happened_at: at",
                 "          attributes: { record: true }"]
open(os.path.join(out, "large.yaml"), "w").write("\n".join(spec) + "\n")

# A CloudFormation template of similar size: the same subnets, groups with their rules, route
# tables, an endpoint, functions and a role each, for cfn-lint.
t = ["AWSTemplateFormatVersion: '2010-09-09'", "Resources:",
     "  Vpc:", "    Type: AWS::EC2::VPC", "    Properties:", "      CidrBlock: 10.0.0.0/16"]
for i in range(SUBNETS):
    t += [f"  Subnet{i}:", "    Type: AWS::EC2::Subnet", "    Properties:", "      VpcId: !Ref Vpc",
          f"      CidrBlock: 10.0.{i}.0/24", f"      AvailabilityZone: eu-west-1{'abc'[i % 3]}"]
    t += [f"  Subnet{i}RouteTableAssociation:", "    Type: AWS::EC2::SubnetRouteTableAssociation", "    Properties:",
          f"      SubnetId: !Ref Subnet{i}", "      RouteTableId: !Ref RouteTable"]
t += ["  RouteTable:", "    Type: AWS::EC2::RouteTable", "    Properties:", "      VpcId: !Ref Vpc",
      "  S3Endpoint:", "    Type: AWS::EC2::VPCEndpoint", "    Properties:", "      VpcId: !Ref Vpc",
      "      ServiceName: !Sub com.amazonaws.${AWS::Region}.s3", "      VpcEndpointType: Gateway", "      RouteTableIds: [!Ref RouteTable]"]
for g in range(GROUPS):
    t += [f"  Group{g}:", "    Type: AWS::EC2::SecurityGroup", "    Properties:", f"      GroupDescription: group {g}",
          "      VpcId: !Ref Vpc", "      SecurityGroupIngress:",
          f"        - {{ IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.{g % 200}.0/24, Description: https }}"]
    t += [f"  Group{g}Ingress:", "    Type: AWS::EC2::SecurityGroupIngress", "    Properties:", f"      GroupId: !Ref Group{g}",
          "      IpProtocol: tcp", f"      FromPort: {8000 + g % 100}", f"      ToPort: {8000 + g % 100}",
          f"      SourceSecurityGroupId: !Ref Group{(g + 1) % GROUPS}", "      Description: app traffic"]
for f in range(FUNCTIONS):
    t += [f"  Role{f}:", "    Type: AWS::IAM::Role", "    Properties:", "      AssumeRolePolicyDocument:",
          "        Version: '2012-10-17'", "        Statement:",
          "          - { Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }"]
    t += [f"  Function{f}:", "    Type: AWS::Lambda::Function", "    Properties:", "      Runtime: provided.al2023",
          "      Handler: bootstrap", f"      Role: !GetAtt Role{f}.Arn", "      Code: { S3Bucket: code, S3Key: etl.zip }",
          "      VpcConfig:", f"        SubnetIds: [!Ref Subnet{100 + 2 * f}, !Ref Subnet{101 + 2 * f}]",
          f"        SecurityGroupIds: [!Ref Group{10 + f}]"]
open(os.path.join(out, "large-template.yaml"), "w").write("\n".join(t) + "\n")
