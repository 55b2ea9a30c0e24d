package org.blksnap.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

/** The PNG bar chart of every ratio to bare, with the targets beside them. */
final class RatioChart {
    private RatioChart() {
    }

    /**
     * @param r   the results
     * @param png   the PNG file to write
     * @param title the chart title
     * @throws IOException if it cannot be written
     */
    static void write(Results r, Path png, String title) throws IOException {
        List<String> names = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        List<Double> targets = new ArrayList<>();
        for (Measurement m : r.measurements()) {
            // The baselines are 1.0 by definition.
            if (m.ratio() == null || m.scenario() == 1 || m.target() == null && m.ratio() == 1.0) {
                continue;
            }
            names.add(m.scenario() + ". " + m.name());
            ratios.add(m.ratio());
            targets.add(m.target() != null && m.target().basis() == Target.Basis.RATIO ? m.target().bound() : null);
        }
        if (names.isEmpty()) {
            throw new IOException("no ratio to chart: every scenario failed");
        }
        CategoryChart c = new CategoryChartBuilder().width(1200).height(760).title(title)
                .yAxisTitle("ratio to bare (same job, same boot)").build();
        CategoryStyler st = c.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setXAxisLabelRotation(35);
        st.setLabelsVisible(true);
        st.setDecimalPattern("0.00");
        st.setSeriesColors(new Color[] {new Color(0x33, 0x66, 0x99), new Color(0xcc, 0x88, 0x22)});
        st.setChartBackgroundColor(Color.WHITE);
        st.setAntiAlias(true);
        c.addSeries("measured", names, ratios);
        c.addSeries("target (at least)", names, targets);
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
