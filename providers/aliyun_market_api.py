"""The Alibaba Cloud Marketplace background service (DAMO bg-rep, product cmapi00069649): its
addresses and documented limits, shared by the adapter and its error texts.
"""

from __future__ import annotations

SUBMIT_PATH = "/api/v1/bg-rep/submit"
QUERY_PATH = "/api/v1/bg-rep/query"
PRODUCT_ID = "cmapi00069649"
PRODUCT_URL = f"https://market.aliyun.com/apimarket/detail/{PRODUCT_ID}"
EXAMPLE_BASE_URL = "https://xxxx.market.alicloudapi.com"

INPUT_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP"})
MIN_SIDE = 400
MAX_SIDE = 4096
MAX_PROMPT_CHARS = 500
MAX_COUNT = 4
# Sub-tasks one submit may carry: "task_list为数组结构，最多支持批量提交10个任务" (seed 001).
MAX_BATCH = 10
# The seller types the seed as "Integer"; a Java int is the widest value it can hold.
MAX_SEED = 2**31 - 1
# Defaults are the values of the seller's own request sample.
DEFAULT_GUIDANCE = 7.5
DEFAULT_STRENGTH = 0.5
DEFAULT_STEPS = 50
