"""Draws the demo's maps and photos with Pillow, so the repository holds no binary files.

Everything is seeded: the same trail always gets the same pictures.
"""

import itertools
import math
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

# Hypsometric tints from valley to summit, as on a walker's map.
TINTS = [
    (214, 228, 196),
    (224, 232, 196),
    (236, 232, 200),
    (238, 222, 190),
    (230, 206, 172),
    (218, 190, 158),
    (204, 176, 150),
]
CONTOUR = (176, 122, 74)
WATER = (90, 150, 200)
ROUTE = (200, 30, 40)
GRID = (150, 190, 220)
INK = (40, 40, 40)

SKIES = {
    "morning": [(118, 164, 222), (196, 214, 236), (246, 222, 190)],
    "midday": [(70, 130, 210), (140, 185, 235), (214, 232, 246)],
    "evening": [(64, 72, 140), (214, 120, 110), (250, 196, 120)],
    "overcast": [(120, 130, 142), (170, 176, 184), (206, 208, 210)],
}
# Far to near: grey-green fells, green slopes, then heather and bracken at the walker's feet.
HILLS = [(88, 112, 96), (76, 112, 72), (70, 104, 56), (104, 96, 58), (92, 78, 52)]


def font(size):
    return ImageFont.load_default(size=size)


def gradient(colours, steps):
    """``steps`` colours running evenly through ``colours``."""
    out = []
    for i in range(steps):
        t = i / max(steps - 1, 1) * (len(colours) - 1)
        low = min(int(t), len(colours) - 2)
        f = t - low
        out.append(
            tuple(
                round(a + (b - a) * f)
                for a, b in zip(colours[low], colours[low + 1], strict=True)
            )
        )
    return out


def smoothstep(t):
    return t * t * (3 - 2 * t)


def ridge(rng, width, base, roughness, points=65):
    """A skyline by midpoint displacement: a list of (x, y) across the width."""
    heights = [base + rng.uniform(-roughness, roughness) for _ in range(2)]
    spread = roughness
    while len(heights) < points:
        spread *= 0.55
        refined = []
        for a, b in itertools.pairwise(heights):
            refined += [a, (a + b) / 2 + rng.uniform(-spread, spread)]
        heights = refined + [heights[-1]]
    step = width / (len(heights) - 1)
    return [(i * step, y) for i, y in enumerate(heights)]


def heightfield(rng, size, summits):
    """A greyscale terrain: a soft cone for each summit, roughened with blurred noise."""
    width, height = size
    terrain = Image.new("L", size, 0)
    # Pillow's radial gradient reaches 181 at the middle of each edge: a dome that is 0 there.
    dome = Image.radial_gradient("L").point(
        lambda v: round(255 * smoothstep(1 - min(v, 181) / 181))
    )
    for x, y, radius, peak in summits:
        blob = dome.resize((radius * 2, int(radius * 1.5))).point(
            lambda v, peak=peak: v * peak // 255
        )
        layer = Image.new("L", size, 0)
        layer.paste(blob, (x - radius, y - int(radius * 0.75)))
        terrain = ImageChops.add(terrain, layer)
    noise = Image.effect_noise((width // 8, height // 8), 64).resize(size)
    noise = noise.filter(ImageFilter.GaussianBlur(24)).point(lambda v: (v - 128) * 2)
    terrain = ImageChops.add(terrain, noise)
    return ImageOps.autocontrast(terrain.filter(ImageFilter.GaussianBlur(6)))


def downhill(terrain, start, steps=400):
    """A stream's course: from ``start``, keep stepping to the lowest nearby point."""
    width, height = terrain.size
    x, y = start
    course = [start]
    for _ in range(steps):
        options = [
            (x + dx, y + dy)
            for dx, dy in itertools.product((-6, 0, 6), repeat=2)
            if (dx or dy) and 0 <= x + dx < width and 0 <= y + dy < height
        ]
        best = min(options, key=terrain.getpixel)
        if terrain.getpixel(best) >= terrain.getpixel((x, y)):
            break
        x, y = best
        course.append(best)
    return course


def dashed(draw, points, fill, width, dash=18, gap=12):
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        length = math.hypot(x2 - x1, y2 - y1)
        position = 0.0
        while position < length:
            end = min(position + dash, length)
            draw.line(
                [
                    (
                        x1 + (x2 - x1) * position / length,
                        y1 + (y2 - y1) * position / length,
                    ),
                    (x1 + (x2 - x1) * end / length, y1 + (y2 - y1) * end / length),
                ],
                fill=fill,
                width=width,
            )
            position = end + gap


def wobble(rng, points, amount=18, between=4):
    """A hand-drawn path through ``points``: extra points, nudged sideways."""
    out = [points[0]]
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        for i in range(1, between + 1):
            t = i / between
            jitter = 0 if i == between else rng.uniform(-amount, amount)
            out.append((x1 + (x2 - x1) * t + jitter, y1 + (y2 - y1) * t + jitter))
    return out


def draw_map(seed, title, size=(1200, 800)):
    """A walker's map: tinted terrain with contours, a stream, summits, grid and the route."""
    rng = random.Random(seed)
    width, height = size
    summits = []
    while len(summits) < 3:
        x, y = rng.randint(250, width - 300), rng.randint(220, height - 200)
        # Far enough apart that their labels do not overlap.
        if all(math.hypot(x - sx, y - sy) > 260 for sx, sy, _, _ in summits):
            summits.append((x, y, rng.randint(240, 380), rng.randint(90, 130)))
    terrain = heightfield(rng, size, summits)

    # Tints by height band, contour lines where the band changes, every fifth one bolder.
    band = 14
    tints = gradient(TINTS, 256 // band + 1)
    picture = Image.merge(
        "RGB",
        [terrain.point(lambda v, c=c: tints[v // band][c]) for c in range(3)],
    )
    bands = terrain.point(lambda v: v // band * 40 % 256)
    lines = bands.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v else 0)
    index = terrain.point(lambda v: v // (band * 5) * 80 % 256)
    index = index.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v else 0)
    index = index.filter(ImageFilter.MaxFilter(3))
    picture.paste(CONTOUR, mask=lines.point(lambda v: v * 7 // 10))
    picture.paste((140, 88, 50), mask=index)

    draw = ImageDraw.Draw(picture)
    for x in range(0, width, 150):
        draw.line([(x, 0), (x, height)], fill=GRID, width=1)
    for y in range(0, height, 150):
        draw.line([(0, y), (width, y)], fill=GRID, width=1)

    source = (summits[0][0] + rng.randint(-60, 60), summits[0][1] + 40)
    stream = downhill(terrain, source)
    if len(stream) > 2:
        draw.line(stream, fill=WATER, width=4, joint="curve")
        lx, ly = stream[-1]
        draw.ellipse([lx - 46, ly - 26, lx + 46, ly + 26], fill=WATER)

    start = (rng.randint(60, 200), height - rng.randint(60, 140))
    route = wobble(rng, [start] + [(x, y) for x, y, _, _ in summits[:2]] + [start])
    draw.line(route, fill=(255, 255, 255), width=10, joint="curve")
    dashed(draw, route, ROUTE, 6)
    draw.rectangle(
        [start[0] - 16, start[1] - 16, start[0] + 16, start[1] + 16], fill=(30, 80, 160)
    )
    draw.text(start, "P", fill=(255, 255, 255), font=font(26), anchor="mm")

    names = ["Black Hill", "High Moor", "Crag Top", "Long Edge", "Grey Knott"]
    rng.shuffle(names)
    for (x, y, _, peak), name in zip(summits, names[: len(summits)], strict=True):
        draw.regular_polygon((x, y, 9), 3, fill=INK)
        label = f"{name} {300 + peak * 2} m"
        draw.text(
            (x + 14, y - 10),
            label,
            fill=INK,
            font=font(26),
            stroke_width=3,
            stroke_fill=(255, 255, 255),
        )

    draw.rounded_rectangle(
        [20, 20, 560, 116], 8, fill=(255, 255, 255), outline=INK, width=2
    )
    draw.text((36, 28), title, fill=INK, font=font(36))
    draw.text(
        (36, 78), "Contours every 20 m   · · · route   P start", fill=INK, font=font(22)
    )

    bar_x, bar_y = 30, height - 48
    for i in range(4):
        fill = INK if i % 2 == 0 else (255, 255, 255)
        draw.rectangle(
            [bar_x + i * 50, bar_y, bar_x + (i + 1) * 50, bar_y + 14],
            fill=fill,
            outline=INK,
        )
    draw.text((bar_x, bar_y - 6), "0", fill=INK, font=font(22), anchor="lb")
    draw.text((bar_x + 200, bar_y - 6), "1 km", fill=INK, font=font(22), anchor="mb")

    nx, ny = width - 60, 70
    draw.polygon(
        [(nx, ny - 40), (nx - 16, ny + 10), (nx, ny), (nx + 16, ny + 10)], fill=INK
    )
    draw.text((nx, ny + 16), "N", fill=INK, font=font(28), anchor="mt")
    return picture


def draw_photo(seed, size=(1600, 900)):
    """A landscape in the hills: sky, sun, clouds, hazy ridges and a footpath."""
    rng = random.Random(1000 + seed)
    width, height = size
    sky_name = list(SKIES)[seed % len(SKIES)]
    horizon = int(height * rng.uniform(0.5, 0.6))
    sky = gradient(SKIES[sky_name], horizon + 1)
    picture = Image.new("RGB", size)
    draw = ImageDraw.Draw(picture)
    for y in range(horizon + 1):
        draw.line([(0, y), (width, y)], fill=sky[y])

    sun_x = rng.randint(width // 5, width * 4 // 5)
    sun_y = horizon - rng.randint(120, 300)
    glow = Image.new("L", size, 0)
    ImageDraw.Draw(glow).ellipse(
        [sun_x - 90, sun_y - 90, sun_x + 90, sun_y + 90], fill=255
    )
    picture.paste((255, 236, 180), mask=glow.filter(ImageFilter.GaussianBlur(50)))
    if sky_name != "overcast":
        draw.ellipse(
            [sun_x - 36, sun_y - 36, sun_x + 36, sun_y + 36], fill=(255, 244, 214)
        )

    clouds = Image.new("L", size, 0)
    cloud_draw = ImageDraw.Draw(clouds)
    for _ in range(rng.randint(2, 6)):
        cx, cy = rng.randint(0, width), rng.randint(30, horizon - 200)
        for _ in range(6):
            w, h = rng.randint(60, 160), rng.randint(18, 40)
            ox, oy = rng.randint(-140, 140), rng.randint(-16, 16)
            cloud_draw.ellipse(
                [cx + ox - w, cy + oy - h, cx + ox + w, cy + oy + h], fill=210
            )
    picture.paste((252, 250, 246), mask=clouds.filter(ImageFilter.GaussianBlur(10)))

    # Ridges from far to near: each lower down the picture, rougher, and less hazy.
    haze = sky[horizon]
    for layer, colour in enumerate(HILLS):
        nearness = layer / (len(HILLS) - 1)
        base = horizon - 120 + int(nearness**1.4 * (height - horizon) * 0.95)
        line = ridge(rng, width, base, 150 - nearness * 90)
        mix = 0.7 * (1 - nearness) ** 1.5
        fill = tuple(
            round(c + (h - c) * mix) for c, h in zip(colour, haze, strict=True)
        )
        hill = Image.new("L", size, 0)
        ImageDraw.Draw(hill).polygon([(0, height), *line, (width, height)], fill=255)
        picture.paste(
            fill, mask=hill.filter(ImageFilter.GaussianBlur(2 - nearness * 2))
        )

    # A footpath from the walker's feet, narrowing as it winds towards the hills.
    top_y = horizon + (height - horizon) // 4
    bottom_x, top_x = width * rng.uniform(0.4, 0.6), width * rng.uniform(0.3, 0.7)
    sway, phase = rng.uniform(60, 160), rng.uniform(0, math.pi)
    left, right = [], []
    for i in range(41):
        t = i / 40
        y = height + 10 - t * (height + 10 - top_y)
        x = bottom_x + (top_x - bottom_x) * t + sway * math.sin(t * 5 + phase) * (1 - t)
        half = 4 + 70 * (1 - t) ** 2
        left.append((x - half, y))
        right.append((x + half, y))
    draw.polygon(left + right[::-1], fill=(176, 156, 120))
    for _ in range(rng.randint(6, 14)):
        x, y = rng.randint(0, width), rng.randint(height - 200, height)
        r = rng.randint(8, 30) * (y - horizon) // (height - horizon)
        draw.ellipse([x - r, y - r * 0.6, x + r, y + r * 0.6], fill=(126, 122, 112))
    return picture


def draw_icon(size=512):
    """The home-screen icon: the logo's green fell and amber sun on paper, square.

    Drawn with a margin of a fifth, so that platforms that crop icons to a circle
    ("maskable" icons) keep the whole picture.
    """
    paper, green, sun = (246, 247, 244), (47, 111, 79), (224, 161, 0)
    # Drawn at four times the size and scaled down: Pillow's polygons have no anti-aliasing.
    scale = 4
    big = size * scale
    icon = Image.new("RGB", (big, big), paper)
    draw = ImageDraw.Draw(icon)
    margin = big // 5

    def at(x, y):
        """A point of the logo's 32 × 32 grid, inside the margin."""
        inner = big - 2 * margin
        return margin + x * inner / 32, margin + y * inner / 32

    draw.polygon(
        [at(2, 28), at(12, 10), at(18, 20), at(22, 14), at(30, 28)], fill=green
    )
    (cx, cy), radius = at(24, 7), 3 * (big - 2 * margin) / 32
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=sun)
    return icon.resize((size, size), Image.LANCZOS)
