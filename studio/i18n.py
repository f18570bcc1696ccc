"""The string table: every user-facing text in English and 简体中文, and `translate()`.

`STRINGS[language][key]` is a `str.format` template. Both languages have exactly
the same keys and the same `{params}` (tests/test_i18n.py checks it). Keys are
grouped by where they appear: `page.*` titles and intros, `step.*`, one group
per widget family, `error.<code>` for `StudioInputError.code` and job error
codes, `status.*`, `workflow.*`, `method.*` (how the product was cut out) and
`note.*` (what was normalised in an upload).

The Chinese is written for e-commerce staff: 白底图, 场景图, 抠图, 蒙版, 生成,
张数, 投影, 服务商.
"""

from __future__ import annotations

import string
from typing import Any

DEFAULT_LANGUAGE = "en"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}

_EN: dict[str, str] = {
    # ---------------------------------------------------------------- navigation
    "nav.create": "Create",
    "nav.manage": "Manage",
    "page.prompt.title": "Prompt background",
    "page.prompt.intro": (
        "Upload a product photo, describe the background you want in English or Chinese, "
        "and get several variants. Runs offline on the local engine, free."
    ),
    "page.scene.title": "Scene background",
    "page.scene.intro": "Place your product into a ready-made scene: pick a scene, a size and how many variants.",
    "page.model.title": "Virtual model",
    "page.model.intro": "Keep the garment, change the model: show your clothing on different virtual models.",
    "page.history.title": "History",
    "page.history.intro": "Every job, from this app and from scripts: filter, open the details, download and export.",
    "page.settings.title": "Settings",
    "page.settings.intro": "How the engine runs on this machine, which providers are configured, and your language.",
    # ------------------------------------------------------------------- sidebar
    "sidebar.language": "Language · 语言",
    "sidebar.engine_model": "Local engine ready · AI cutout ({model})",
    "sidebar.engine_classical": "Local engine ready · classical cutout (AI model not found)",
    "sidebar.pending": "{count} job(s) running",
    "sidebar.no_pending": "No jobs running",
    # --------------------------------------------------------------------- steps
    "step.heading": "{number}. {title}",
    "step.photo": "Product photo",
    "step.mask": "Cutout",
    "step.describe": "Background",
    "step.output": "Output",
    "step.scene": "Scene",
    # -------------------------------------------------------------------- photo
    "photo.upload": "Product photo (JPG, PNG, WEBP or BMP)",
    "photo.upload_help": "A transparent PNG keeps its own cutout. Photos up to 50 MB.",
    "photo.caption": "Your photo",
    "photo.facts": "{name} · {width} × {height} px · {format}",
    "photo.facts_alpha": "{facts} · has transparency",
    "upload.kept": "Using {name} (uploaded earlier).",
    "upload.remove": "Remove",
    "note.exif_rotated": "Turned upright using the camera's orientation tag (EXIF).",
    "note.converted_from_cmyk": "Converted from CMYK (print colours) to RGB.",
    "note.reduced_from_16_bit": "Reduced from 16-bit to 8-bit colour.",
    "note.palette_expanded": "Converted from an indexed-colour (palette) image.",
    "note.first_frame_only": "Animated image: only the first frame is used.",
    "note.alpha_ignored": "The transparency layer was fully opaque, so it was ignored.",
    "note.exif_unreadable": "The camera orientation tag (EXIF) could not be read; the photo is shown as stored.",
    "note.other": "Note: {note}",
    # --------------------------------------------------------------------- mask
    "mask.label": "How to find the product",
    "mask.mode.auto": "Automatic cutout",
    "mask.mode.upload": "Upload a mask (white = product)",
    "mask.upload": "Mask image (same size as the photo)",
    "mask.upload_help": "White (or opaque) = the product to keep, black = the background to replace.",
    "mask.upload_hint": "Upload a mask, or switch to automatic cutout.",
    "mask.working": "Cutting out the product…",
    "mask.overlay_caption": "Red = background that will be replaced",
    "mask.cutout_caption": "Cut-out product",
    "mask.method": "Cutout by: {method}",
    "mask.preview_caption": "Your mask",
    "mask.after_photo": "Upload a photo first; its cutout appears here.",
    "method.alpha": "the photo's own transparency",
    "method.mask": "your mask",
    "method.model": "AI model u2netp",
    "method.classical": "classical fallback (no AI model found)",
    # ------------------------------------------------------------------- prompt
    "prompt.label": "Describe the background (English or 中文)",
    "prompt.placeholder": "e.g. white marble, soft light, luxury · 例如：白色大理石，柔光，高级感",
    "prompt.negative": "Avoid (optional)",
    "prompt.negative_placeholder": "e.g. no shadow, no reflection · 例如：不要阴影",
    "prompt.reading": "Words used: {used} · ignored: {ignored}",
    "prompt.summary": "The engine will make: {summary}",
    "provider.label": "Provider",
    "provider.help": "Only providers that are configured and can do this job are listed.",
    "provider.none_configured": "No configured provider offers this yet. See Settings.",
    "provider.local": "Local engine (offline, free)",
    # ------------------------------------------------------------------ options
    "size.label": "Output size",
    "size.keep": "Same as the photo",
    "size.custom": "Custom…",
    "size.preset": "{width} × {height}",
    "size.hint.800x800": "{size} · square, marketplace main image",
    "size.hint.750x1000": "{size} · 3:4 portrait",
    "size.hint.2000x2000": "{size} · large square, zoomable",
    "size.width": "Width (px)",
    "size.height": "Height (px)",
    "layout.label": "Product placement",
    "layout.keep": "Keep original position",
    "layout.center": "Centred",
    "layout.fill": "Product size (fill)",
    "layout.fill_help": "How much of the space inside the margins the product fills, by its longest side.",
    "layout.margin": "Margin",
    "layout.margin_help": "Empty space kept on every side, as a share of the image.",
    "shadow.label": "Shadow",
    "shadow.auto_prompt": "As the prompt suggests",
    "shadow.auto_scene": "Scene default",
    "shadow.none": "None",
    "shadow.contact": "Contact",
    "shadow.drop": "Soft drop",
    "shadow.opacity": "Opacity",
    "shadow.softness": "Softness",
    "shadow.direction": "Light direction",
    "shadow.direction_help": (
        "Where the light comes from: 0° = right, 90° = top, 180° = left. The shadow falls the other way."
    ),
    "finish.title": "Fine-tuning",
    "finish.custom": "Set reflection and light wrap myself",
    "finish.custom_help": "Off: the prompt or scene decides (for example “glossy” adds a reflection).",
    "finish.reflection": "Reflection",
    "finish.light_wrap": "Light wrap",
    "finish.light_wrap_help": "Lets the background's light spill onto the product's edges so it sits in the scene.",
    "variants.label": "Number of variants",
    "reference.title": "Reference photo (optional)",
    "reference.intro": "The local engine uses this photo as the backdrop behind your product, optionally blurred.",
    "reference.upload": "Reference photo",
    "reference.blur": "Background blur (px)",
    # ------------------------------------------------------------------- scenes
    "scene.category.label": "Category",
    "scene.category.all": "All",
    "scene.category.studio": "Studio",
    "scene.category.home": "Home",
    "scene.category.nature": "Nature",
    "scene.category.luxury": "Luxury",
    "scene.category.festive": "Festive",
    "scene.category.tech": "Tech",
    "scene.none": "No scenes are available.",
    "scene.card_title": "**{name}**",
    "scene.select": "Select",
    "scene.selected": "Selected",
    "scene.chosen": "Scene: **{name}**",
    "scene.relayout": "Re-layout the product",
    "scene.relayout_help": "On: centre the product on the scene's floor. Off: keep its position from your photo.",
    "scene.product_title": "Product title (optional)",
    "scene.product_title_placeholder": "e.g. Summer linen dress · 夏季新品 亚麻连衣裙",
    "scene.draw_title": "Draw the title on the image",
    "scene.draw_title_help": "Chinese and English titles are drawn with a CJK font.",
    # ------------------------------------------------------------------ generate
    "generate.button": "Generate",
    "reason.no_photo": "Upload a product photo to start.",
    "reason.no_mask": "Upload a mask or switch to automatic cutout.",
    "reason.bad_mask": "Fix the mask first (see the message above).",
    "reason.cutout": "The automatic cutout did not work on this photo; upload a mask instead.",
    "reason.no_provider": "No provider can do this yet.",
    "reason.no_scene": "Choose a scene above.",
    # ---------------------------------------------------------------------- jobs
    "job.heading": "**{workflow}** · {provider} · {count} variant(s) · `#{short_id}`",
    "job.facts": "Created {when} · took {duration} · {cost}",
    "job.facts_method": "{facts} · cutout: {method}",
    "job.pending.queued": "Waiting for a free slot…",
    "job.pending.submitting": "Sending to the engine…",
    "job.pending.running": "Generating…",
    "job.pending_for": "{seconds} s so far",
    "job.pending_hint": "You can leave this page: the job keeps running and appears in History.",
    "job.missing": "This job is no longer in the store.",
    "job.failed_unknown": "The job failed without a reason.",
    "job.canceled": "This job was canceled.",
    "status.queued": "Queued",
    "status.submitting": "Submitting",
    "status.running": "Running",
    "status.succeeded": "Succeeded",
    "status.failed": "Failed",
    "status.canceled": "Canceled",
    "workflow.prompt": "Prompt background",
    "workflow.scene": "Scene background",
    "workflow.model": "Virtual model",
    "gallery.compare": "Compare with original",
    "gallery.download_all": "Download all (ZIP)",
    "gallery.download": "Download PNG",
    "gallery.variant": "Variant {number} · {width} × {height}",
    "gallery.before": "Before",
    "gallery.after": "After",
    "gallery.empty": "This job produced no images.",
    "gallery.missing_file": "The image file is missing from the data folder.",
    "cost.amount": "{amount} {currency}",
    "cost.free": "free",
    "cost.unknown": "price not set",
    "duration.none": "—",
    "duration.seconds": "{seconds} s",
    "duration.minutes": "{minutes} min {seconds} s",
    "list.join": ", ",
    "list.none": "none",
    # ------------------------------------------------------------------- details
    "detail.inputs": "Inputs",
    "detail.input": "Photo",
    "detail.mask_given": "Mask you gave",
    "detail.mask_used": "Mask used",
    "detail.reference": "Reference photo",
    "detail.no_mask_given": "No mask given: the engine cut out the product itself.",
    "detail.parameters": "Parameters",
    "detail.facts": "Timing and cost",
    "detail.created": "Created: {when}",
    "detail.started": "Started: {when}",
    "detail.not_started": "Not started yet",
    "detail.finished": "Finished: {when}",
    "detail.not_finished": "Not finished yet",
    "detail.duration": "Duration: {duration}",
    "detail.attempts": "Attempts: {attempts}",
    "detail.cost": "Cost: {cost}",
    "detail.estimate": "Estimated: {amount} {currency}",
    "detail.cutout": "Cutout: {method}",
    "detail.error": "Error: {message}",
    "detail.words": "**Prompt words used:** {used}  \n**Ignored:** {ignored}",
    # ------------------------------------------------------------------- history
    "history.dates": "Date range",
    "history.workflow": "Workflow",
    "history.provider": "Provider",
    "history.status": "Status",
    "history.search": "Search",
    "history.any": "All",
    "history.search_placeholder": "prompt, title, scene or job id",
    "history.empty": "No jobs yet. Generate your first backdrop and it will show up here.",
    "history.empty_link": "Go to Prompt background",
    "history.no_match": "No jobs match these filters.",
    "history.page_of": "Page {page} of {pages} · {total} job(s)",
    "history.export": "Export CSV",
    "history.refreshing": "{count} job(s) still running; this table refreshes by itself.",
    "history.detail_title": "Job details",
    "history.select_hint": "Select a row to see the job's inputs, parameters and results.",
    "history.totals_title": "Totals",
    "history.totals_intro": (
        "Per provider and currency for the filtered jobs; amounts in different currencies are never added together."
    ),
    "history.no_totals": "Nothing to total yet.",
    "history.chart_images": "**Images per day**",
    "history.chart_spend": "**Spend per day**",
    "history.chart_spend_currency": "**Spend per day ({currency})**",
    "history.no_spend": "No paid jobs in this period: the local engine is free.",
    "history.chart_day": "Day",
    "history.chart_amount": "Amount ({currency})",
    "history.duration_format": "%.1f s",
    "history.col.thumbnail": "Preview",
    "history.col.created": "Created",
    "history.col.workflow": "Workflow",
    "history.col.provider": "Provider",
    "history.col.status": "Status",
    "history.col.images": "Images",
    "history.col.duration": "Duration",
    "history.col.cost": "Cost",
    "history.col.prompt": "Prompt",
    "history.col.error": "Error",
    "history.col.job_id": "Job id",
    "history.col.jobs": "Jobs",
    "history.col.succeeded": "Succeeded",
    "history.col.failed": "Failed",
    "history.col.spend": "Spend",
    # ------------------------------------------------------------- virtual model
    "model.what": (
        "**What it does:** keeps your garment exactly as it is and changes the model wearing it "
        "(face, pose, skin tone), so one flat-lay or mannequin photo becomes on-model shots."
    ),
    "model.how": (
        "**What it needs:** a cloud provider that offers virtual models, such as Aidge "
        "(Alibaba International AI). The local engine cannot do this."
    ),
    "model.needs_provider": "No provider for virtual models is configured yet, so there is nothing to generate here.",
    "model.configure": (
        "To turn it on, an administrator sets these two values as environment variables "
        "or in `.streamlit/secrets.toml`, then restarts the app:"
    ),
    "model.secrets_file": "See `.streamlit/secrets.example.toml` for the format. Keys are never shown in the app.",
    "model.ready": "Configured: {providers}.",
    "model.to_settings": "Open Settings",
    # ------------------------------------------------------------------ settings
    "settings.engine_title": "Local engine",
    "settings.row_label": "{mark} **{label}**",
    "settings.model": "Cutout model",
    "settings.model_found": "u2netp found at `{path}`: AI cutout.",
    "settings.model_missing": "Not found at `{path}`: classical cutout is used. Run `scripts/install.sh` to fetch it.",
    "settings.font": "Chinese font",
    "settings.font_found": "`{path}`",
    "settings.font_missing": "No CJK font found: Chinese titles cannot be drawn. Install fonts-noto-cjk.",
    "settings.model_error": "`{path}` could not be loaded ({error}): classical cutout is used.",
    "settings.code": "`{value}`",
    "settings.data_dir": "Data folder",
    "settings.database": "Database",
    "settings.worker": "Background worker",
    "settings.worker_alive": "Running: jobs finish even when no browser is open.",
    "settings.worker_stopped": "Not running: new jobs wait until the app restarts.",
    "settings.providers_title": "Providers",
    "settings.providers_intro": "Configured providers can be chosen on the generate pages. Secrets are never shown.",
    "settings.col.provider": "Provider",
    "settings.col.key": "Key",
    "settings.col.workflows": "Can do",
    "settings.col.configured": "Configured",
    "settings.col.missing": "Missing settings",
    "settings.language_title": "Language",
    "settings.language_current": "This session: **{current}** · new sessions start in: **{default}**",
    "settings.language_hint": (
        "Change it in the sidebar: the choice is kept in the page link (?lang=) and becomes the default for new sessions."
    ),
    # -------------------------------------------------------------------- errors
    "error.empty": "The file is empty. Choose the photo again.",
    "error.corrupt": (
        "This file could not be read as an image (it may be damaged or cut off). "
        "Export it again as JPG or PNG and upload it."
    ),
    "error.unsupported_format": "{format} files are not supported. Upload a JPG, PNG, WEBP or BMP image.",
    "error.too_many_pixels": (
        "This image has {pixels:,} pixels, more than the {max_pixels:,} allowed. "
        "Make it smaller (for example 6000 × 6000) and upload it again."
    ),
    "error.too_small": (
        "The image is only {width} × {height} px; each side must be at least {min_side} px. Use a larger photo."
    ),
    "error.too_large": "The image is {width} × {height} px; no side may exceed {max_side} px. Make it smaller.",
    "error.mask_size_mismatch": (
        "The mask is {mask_w} × {mask_h} px but the photo is {image_w} × {image_h} px. "
        "Export the mask at the photo's exact size."
    ),
    "error.mask_empty": (
        "The mask has no white area, so there is no product to keep. "
        "Paint the product white and the background black."
    ),
    "error.mask_full": "The mask is white everywhere, so there is no background to replace. Paint the background black.",
    "error.mask_corrupt": "The mask file could not be read. Upload a PNG where white = product.",
    "error.bad_size": (
        "The output size {width} × {height} is not possible: each side must be {min} to {max} px. Choose another size."
    ),
    "error.bad_count": "This provider makes {min} to {max} images per job; you asked for {count}. Choose a number in that range.",
    "error.prompt_too_long": "The description is longer than {max} characters. Shorten it and try again.",
    "error.bad_seed": "The seed {seed} is not valid. Leave it empty or use a whole number from 0 to 2147483647.",
    "error.missing_scene": "Choose a scene first.",
    "error.job_not_found": "This job does not exist.",
    "error.provider_not_configured": "This provider is not configured yet. See Settings for the missing values.",
    "error.bad_param": "An option is out of range: {detail}",
    "error.unsupported_workflow": "This provider cannot do this kind of job. Choose another provider.",
    "error.unknown_provider": "This provider is not known. Choose one from the list.",
    "error.scene_not_found": "This scene does not exist any more. Choose another scene.",
    "error.internal_error": (
        "Something went wrong inside the app while running this job. "
        "Try again; if it keeps failing, tell the team the job id."
    ),
    "error.interrupted_submit": (
        "The app stopped while sending this job to the provider. Check the provider's console "
        "before trying again, so you are not charged twice."
    ),
}

_ZH: dict[str, str] = {
    # ---------------------------------------------------------------- navigation
    "nav.create": "创作",
    "nav.manage": "管理",
    "page.prompt.title": "文字生成背景",
    "page.prompt.intro": "上传商品图，用中文或英文描述想要的背景，一次生成多张。本地引擎离线运行，免费。",
    "page.scene.title": "场景图",
    "page.scene.intro": "把商品放进现成的场景：选好场景、尺寸和张数即可。",
    "page.model.title": "虚拟模特",
    "page.model.intro": "保留服装，更换模特：让你的服装穿在不同的虚拟模特身上。",
    "page.history.title": "历史记录",
    "page.history.intro": "所有任务（包括脚本提交的）都在这里：筛选、查看详情、下载和导出。",
    "page.settings.title": "设置",
    "page.settings.intro": "查看本机引擎状态、已配置的服务商和界面语言。",
    # ------------------------------------------------------------------- sidebar
    "sidebar.language": "语言 · Language",
    "sidebar.engine_model": "本地引擎就绪 · AI 抠图（{model}）",
    "sidebar.engine_classical": "本地引擎就绪 · 传统抠图（未找到 AI 模型）",
    "sidebar.pending": "{count} 个任务进行中",
    "sidebar.no_pending": "没有进行中的任务",
    # --------------------------------------------------------------------- steps
    "step.heading": "{number}. {title}",
    "step.photo": "商品图",
    "step.mask": "抠图",
    "step.describe": "背景描述",
    "step.output": "输出设置",
    "step.scene": "选择场景",
    # -------------------------------------------------------------------- photo
    "photo.upload": "商品图（JPG、PNG、WEBP 或 BMP）",
    "photo.upload_help": "透明底 PNG 会直接使用自带的抠图。图片最大 50 MB。",
    "photo.caption": "原图",
    "photo.facts": "{name} · {width} × {height} 像素 · {format}",
    "photo.facts_alpha": "{facts} · 带透明通道",
    "upload.kept": "正在使用之前上传的 {name}。",
    "upload.remove": "移除",
    "note.exif_rotated": "已按相机方向信息（EXIF）自动转正。",
    "note.converted_from_cmyk": "已从 CMYK（印刷色彩）转换为 RGB。",
    "note.reduced_from_16_bit": "已从 16 位色深转换为 8 位。",
    "note.palette_expanded": "已将索引色（调色板）图片转换为全彩。",
    "note.first_frame_only": "动图只使用第一帧。",
    "note.alpha_ignored": "透明通道完全不透明，已忽略。",
    "note.exif_unreadable": "无法读取相机方向信息（EXIF），按原样显示。",
    "note.other": "说明：{note}",
    # --------------------------------------------------------------------- mask
    "mask.label": "抠图方式",
    "mask.mode.auto": "自动抠图",
    "mask.mode.upload": "上传蒙版（白色 = 商品）",
    "mask.upload": "蒙版图片（与原图尺寸相同）",
    "mask.upload_help": "白色（或不透明）部分是要保留的商品，黑色部分是要替换的背景。",
    "mask.upload_hint": "请上传蒙版，或改用自动抠图。",
    "mask.working": "正在抠图…",
    "mask.overlay_caption": "红色为将被替换的背景",
    "mask.cutout_caption": "抠出的商品",
    "mask.method": "抠图方式：{method}",
    "mask.preview_caption": "你的蒙版",
    "mask.after_photo": "请先上传商品图，抠图结果会显示在这里。",
    "method.alpha": "图片自带的透明通道",
    "method.mask": "你上传的蒙版",
    "method.model": "AI 模型 u2netp",
    "method.classical": "传统算法（未找到 AI 模型）",
    # ------------------------------------------------------------------- prompt
    "prompt.label": "描述背景（中文或英文均可）",
    "prompt.placeholder": "例如：白色大理石，柔光，高级感 · e.g. white marble, soft light, luxury",
    "prompt.negative": "不想要的元素（可选）",
    "prompt.negative_placeholder": "例如：不要阴影、不要倒影 · e.g. no shadow",
    "prompt.reading": "识别到的词：{used} · 未使用：{ignored}",
    "prompt.summary": "引擎将生成：{summary}",
    "provider.label": "服务商",
    "provider.help": "只列出已配置好、并且支持此任务的服务商。",
    "provider.none_configured": "还没有已配置的服务商支持此功能，请查看设置页。",
    "provider.local": "本地引擎（离线，免费）",
    # ------------------------------------------------------------------ options
    "size.label": "输出尺寸",
    "size.keep": "与原图一致",
    "size.custom": "自定义…",
    "size.preset": "{width} × {height}",
    "size.hint.800x800": "{size} · 方图，适合电商主图",
    "size.hint.750x1000": "{size} · 3:4 竖图",
    "size.hint.2000x2000": "{size} · 大方图，支持放大查看",
    "size.width": "宽（像素）",
    "size.height": "高（像素）",
    "layout.label": "商品摆放",
    "layout.keep": "保持原位置",
    "layout.center": "居中",
    "layout.fill": "商品大小（占比）",
    "layout.fill_help": "商品在边距以内所占的比例，按较长的一边计算。",
    "layout.margin": "边距",
    "layout.margin_help": "四周留白占整张图的比例。",
    "shadow.label": "投影",
    "shadow.auto_prompt": "按描述自动",
    "shadow.auto_scene": "场景默认",
    "shadow.none": "无投影",
    "shadow.contact": "接触阴影",
    "shadow.drop": "柔和投影",
    "shadow.opacity": "不透明度",
    "shadow.softness": "柔和度",
    "shadow.direction": "光线方向",
    "shadow.direction_help": "光从哪个方向来：0° 为右侧，90° 为上方，180° 为左侧。投影落在相反方向。",
    "finish.title": "细节微调",
    "finish.custom": "手动设置倒影和环境光",
    "finish.custom_help": "关闭时由描述或场景决定（例如写“镜面”会自动加倒影）。",
    "finish.reflection": "倒影",
    "finish.light_wrap": "环境光融合",
    "finish.light_wrap_help": "让背景的光线轻微溢到商品边缘，使商品更融入场景。",
    "variants.label": "生成张数",
    "reference.title": "参考图（可选）",
    "reference.intro": "本地引擎会把这张图作为商品背后的背景，可以加模糊。",
    "reference.upload": "参考图",
    "reference.blur": "背景模糊（像素）",
    # ------------------------------------------------------------------- scenes
    "scene.category.label": "分类",
    "scene.category.all": "全部",
    "scene.category.studio": "影棚",
    "scene.category.home": "家居",
    "scene.category.nature": "自然",
    "scene.category.luxury": "轻奢",
    "scene.category.festive": "节日",
    "scene.category.tech": "科技",
    "scene.none": "暂无可用的场景。",
    "scene.card_title": "**{name}**",
    "scene.select": "选择",
    "scene.selected": "已选择",
    "scene.chosen": "已选场景：**{name}**",
    "scene.relayout": "重新摆放商品",
    "scene.relayout_help": "开启：把商品居中放在场景的地面上。关闭：保持原图中的位置。",
    "scene.product_title": "商品标题（可选）",
    "scene.product_title_placeholder": "例如：夏季新品 亚麻连衣裙 · Summer linen dress",
    "scene.draw_title": "在图片上显示标题",
    "scene.draw_title_help": "中英文标题都会用中文字体绘制。",
    # ------------------------------------------------------------------ generate
    "generate.button": "生成",
    "reason.no_photo": "请先上传商品图。",
    "reason.no_mask": "请上传蒙版，或改用自动抠图。",
    "reason.bad_mask": "请先修正蒙版（见上方提示）。",
    "reason.cutout": "这张图无法自动抠图，请改为上传蒙版。",
    "reason.no_provider": "暂时没有可用的服务商。",
    "reason.no_scene": "请在上方选择一个场景。",
    # ---------------------------------------------------------------------- jobs
    "job.heading": "**{workflow}** · {provider} · {count} 张 · `#{short_id}`",
    "job.facts": "创建于 {when} · 用时 {duration} · {cost}",
    "job.facts_method": "{facts} · 抠图：{method}",
    "job.pending.queued": "排队中，等待空闲…",
    "job.pending.submitting": "正在提交…",
    "job.pending.running": "正在生成…",
    "job.pending_for": "已用时 {seconds} 秒",
    "job.pending_hint": "可以离开此页面：任务会继续运行，完成后可在历史记录中查看。",
    "job.missing": "找不到这个任务。",
    "job.failed_unknown": "任务失败，原因未知。",
    "job.canceled": "任务已取消。",
    "status.queued": "排队中",
    "status.submitting": "提交中",
    "status.running": "生成中",
    "status.succeeded": "已完成",
    "status.failed": "失败",
    "status.canceled": "已取消",
    "workflow.prompt": "文字生成背景",
    "workflow.scene": "场景图",
    "workflow.model": "虚拟模特",
    "gallery.compare": "与原图对比",
    "gallery.download_all": "全部下载（ZIP）",
    "gallery.download": "下载 PNG",
    "gallery.variant": "第 {number} 张 · {width} × {height}",
    "gallery.before": "原图",
    "gallery.after": "效果图",
    "gallery.empty": "该任务没有生成图片。",
    "gallery.missing_file": "数据目录中找不到这张图片。",
    "cost.amount": "{amount} {currency}",
    "cost.free": "免费",
    "cost.unknown": "未设置价格",
    "duration.none": "—",
    "duration.seconds": "{seconds} 秒",
    "duration.minutes": "{minutes} 分 {seconds} 秒",
    "list.join": "、",
    "list.none": "无",
    # ------------------------------------------------------------------- details
    "detail.inputs": "输入",
    "detail.input": "原图",
    "detail.mask_given": "上传的蒙版",
    "detail.mask_used": "实际使用的蒙版",
    "detail.reference": "参考图",
    "detail.no_mask_given": "未上传蒙版：由引擎自动抠图。",
    "detail.parameters": "参数",
    "detail.facts": "耗时与费用",
    "detail.created": "创建时间：{when}",
    "detail.started": "开始时间：{when}",
    "detail.not_started": "尚未开始",
    "detail.finished": "完成时间：{when}",
    "detail.not_finished": "尚未完成",
    "detail.duration": "耗时：{duration}",
    "detail.attempts": "尝试次数：{attempts}",
    "detail.cost": "费用：{cost}",
    "detail.estimate": "预估费用：{amount} {currency}",
    "detail.cutout": "抠图方式：{method}",
    "detail.error": "错误：{message}",
    "detail.words": "**识别到的词：** {used}  \n**未使用：** {ignored}",
    # ------------------------------------------------------------------- history
    "history.dates": "日期范围",
    "history.workflow": "任务类型",
    "history.provider": "服务商",
    "history.status": "状态",
    "history.search": "搜索",
    "history.any": "全部",
    "history.search_placeholder": "描述、标题、场景或任务编号",
    "history.empty": "还没有任务。生成第一张背景图后，它会出现在这里。",
    "history.empty_link": "去文字生成背景",
    "history.no_match": "没有符合筛选条件的任务。",
    "history.page_of": "第 {page} / {pages} 页 · 共 {total} 个任务",
    "history.export": "导出 CSV",
    "history.refreshing": "还有 {count} 个任务在运行，表格会自动刷新。",
    "history.detail_title": "任务详情",
    "history.select_hint": "选中一行即可查看该任务的输入、参数和结果。",
    "history.totals_title": "汇总",
    "history.totals_intro": "按服务商和币种汇总筛选出的任务；不同币种的金额不会相加。",
    "history.no_totals": "暂无可汇总的数据。",
    "history.chart_images": "**每日图片数**",
    "history.chart_spend": "**每日花费**",
    "history.chart_spend_currency": "**每日花费（{currency}）**",
    "history.no_spend": "此期间没有付费任务：本地引擎免费。",
    "history.chart_day": "日期",
    "history.chart_amount": "金额（{currency}）",
    "history.duration_format": "%.1f 秒",
    "history.col.thumbnail": "预览",
    "history.col.created": "创建时间",
    "history.col.workflow": "任务类型",
    "history.col.provider": "服务商",
    "history.col.status": "状态",
    "history.col.images": "图片数",
    "history.col.duration": "耗时",
    "history.col.cost": "费用",
    "history.col.prompt": "描述",
    "history.col.error": "错误",
    "history.col.job_id": "任务编号",
    "history.col.jobs": "任务数",
    "history.col.succeeded": "成功",
    "history.col.failed": "失败",
    "history.col.spend": "花费",
    # ------------------------------------------------------------- virtual model
    "model.what": (
        "**功能：** 服装保持不变，更换穿着它的模特（脸型、姿势、肤色），"
        "一张平铺图或人台图就能变成真人模特上身图。"
    ),
    "model.how": "**需要：** 提供虚拟模特服务的云服务商，例如 Aidge（阿里国际 AI）。本地引擎无法完成此功能。",
    "model.needs_provider": "尚未配置支持虚拟模特的服务商，因此这里暂时无法生成。",
    "model.configure": "如需开启，请管理员在环境变量或 `.streamlit/secrets.toml` 中设置以下两项，然后重启应用：",
    "model.secrets_file": "格式见 `.streamlit/secrets.example.toml`。密钥不会在应用中显示。",
    "model.ready": "已配置：{providers}。",
    "model.to_settings": "打开设置",
    # ------------------------------------------------------------------ settings
    "settings.engine_title": "本地引擎",
    "settings.row_label": "{mark} **{label}**",
    "settings.model": "抠图模型",
    "settings.model_found": "已找到 u2netp：`{path}`，使用 AI 抠图。",
    "settings.model_missing": "未在 `{path}` 找到模型，正在使用传统抠图。运行 `scripts/install.sh` 即可下载。",
    "settings.font": "中文字体",
    "settings.font_found": "`{path}`",
    "settings.font_missing": "未找到中文字体，无法绘制中文标题。请安装 fonts-noto-cjk。",
    "settings.model_error": "无法加载 `{path}`（{error}），正在使用传统抠图。",
    "settings.code": "`{value}`",
    "settings.data_dir": "数据目录",
    "settings.database": "数据库",
    "settings.worker": "后台任务进程",
    "settings.worker_alive": "运行中：即使没有打开浏览器，任务也会完成。",
    "settings.worker_stopped": "未运行：新任务会等到应用重启后再执行。",
    "settings.providers_title": "服务商",
    "settings.providers_intro": "已配置的服务商可以在生成页面中选择。密钥不会显示。",
    "settings.col.provider": "服务商",
    "settings.col.key": "标识",
    "settings.col.workflows": "支持的功能",
    "settings.col.configured": "已配置",
    "settings.col.missing": "缺少的配置",
    "settings.language_title": "语言",
    "settings.language_current": "当前会话：**{current}** · 新会话默认：**{default}**",
    "settings.language_hint": "在侧边栏切换语言：选择会保存在页面链接（?lang=）中，并作为新会话的默认语言。",
    # -------------------------------------------------------------------- errors
    "error.empty": "文件是空的，请重新选择图片。",
    "error.corrupt": "无法读取这张图片（文件可能已损坏或不完整）。请重新导出为 JPG 或 PNG 后上传。",
    "error.unsupported_format": "不支持 {format} 格式。请上传 JPG、PNG、WEBP 或 BMP 图片。",
    "error.too_many_pixels": (
        "图片像素过多（{pixels:,} 像素，上限为 {max_pixels:,}）。请缩小尺寸（例如 6000 × 6000 以内）后重新上传。"
    ),
    "error.too_small": "图片只有 {width} × {height} 像素，每条边至少需要 {min_side} 像素。请换一张更大的图片。",
    "error.too_large": "图片为 {width} × {height} 像素，任何一边都不能超过 {max_side} 像素。请缩小后再上传。",
    "error.mask_size_mismatch": (
        "蒙版尺寸为 {mask_w} × {mask_h} 像素，而原图为 {image_w} × {image_h} 像素。请按原图的尺寸导出蒙版。"
    ),
    "error.mask_empty": "蒙版里没有白色区域，找不到要保留的商品。请把商品涂成白色、背景涂成黑色。",
    "error.mask_full": "蒙版全是白色，没有可以替换的背景。请把背景涂成黑色。",
    "error.mask_corrupt": "无法读取蒙版文件。请上传 PNG 蒙版（白色 = 商品）。",
    "error.bad_size": "无法输出 {width} × {height}：每条边需在 {min} 到 {max} 像素之间，请重新选择尺寸。",
    "error.bad_count": "该服务商每次可生成 {min} 到 {max} 张，你选择了 {count} 张，请调整生成张数。",
    "error.prompt_too_long": "描述超过了 {max} 个字符，请缩短后再试。",
    "error.bad_seed": "随机种子 {seed} 无效。请留空，或填写 0 到 2147483647 之间的整数。",
    "error.missing_scene": "请先选择一个场景。",
    "error.job_not_found": "找不到这个任务。",
    "error.provider_not_configured": "该服务商尚未配置，请在设置页查看缺少的配置项。",
    "error.bad_param": "有选项超出范围：{detail}",
    "error.unsupported_workflow": "该服务商不支持这类任务，请换一个服务商。",
    "error.unknown_provider": "未知的服务商，请从列表中选择。",
    "error.scene_not_found": "该场景已不存在，请重新选择场景。",
    "error.internal_error": "任务运行时应用内部出错。请重试；如果一直失败，请把任务编号告诉技术同事。",
    "error.interrupted_submit": "向服务商提交任务时应用中断了。重试前请先到服务商控制台确认，避免重复扣费。",
}

STRINGS: dict[str, dict[str, str]] = {"en": _EN, "zh": _ZH}

_FORMATTER = string.Formatter()


def template_params(text: str) -> frozenset[str]:
    """The `{names}` a template uses (format specs like `{n:,}` count as `n`)."""
    return frozenset(name for _, name, _, _ in _FORMATTER.parse(text) if name)


def normalise_language(value: object) -> str | None:
    """ "zh", "zh-CN", "zh_Hans", "EN" ... -> a key of LANGUAGES; None when not one we have."""
    if not isinstance(value, str) or not value.strip():
        return None
    primary = value.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def has_key(key: str) -> bool:
    return key in STRINGS[DEFAULT_LANGUAGE]


def translate_strict(language: str, key: str, **params: Any) -> str | None:
    """The filled template, or None when the key is unknown or `params` do not fill it."""
    for candidate in (language, DEFAULT_LANGUAGE):
        template = STRINGS.get(candidate, {}).get(key)
        if template is None:
            continue
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            continue
    return None


def translate(language: str, key: str, **params: Any) -> str:
    """The text for `key` in `language`, falling back to English, then to the key itself.

    A template whose params are missing is returned unfilled rather than raising:
    a page must never crash on a string.
    """
    filled = translate_strict(language, key, **params)
    if filled is not None:
        return filled
    return STRINGS.get(language, {}).get(key) or STRINGS[DEFAULT_LANGUAGE].get(key) or key
